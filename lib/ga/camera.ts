/**
 * GaussianAvatars / NeRF-style cameras → our camera contract (lib/raster/types.ts: OpenCV axes, row-major
 * world → camera, pixels).
 *
 * A transforms file's `transform_matrix` is camera → world with OpenGL camera axes (x right, y up, z toward
 * the viewer, so the camera looks down −z). Flipping its y and z columns gives the same camera with OpenCV
 * axes (y down, looking down +z); inverting that rigid transform gives world → camera: [Rᵀ | −Rᵀ t].
 *
 * Intrinsics: `fl_x`, `fl_y`, `cx`, `cy` when present (on the frame, else at the file's top level), else
 * `camera_angle_x` (horizontal field of view, radians) with the principal point at the image centre and
 * square pixels. `w`/`h` come from the frame, the top level, or the image's own header.
 */
import type { Camera } from '../raster/types.js';

export const GA_NEAR = 0.01; // metres
export const GA_FAR = 100;

/** Camera-to-world (OpenGL axes, row-major 4×4) → world-to-camera (OpenCV axes, row-major 4×4). */
export function openGlCameraToWorldToOpenCv(c2w: ArrayLike<number>, where: string): Float64Array {
  if (c2w.length !== 16) throw new Error(`${where}: expected a 4×4 matrix (16 numbers), got ${c2w.length}`);
  // Rotation columns of the OpenCV camera: x unchanged, y and z negated.
  const R = [c2w[0]!, -c2w[1]!, -c2w[2]!, c2w[4]!, -c2w[5]!, -c2w[6]!, c2w[8]!, -c2w[9]!, -c2w[10]!];
  const t = [c2w[3]!, c2w[7]!, c2w[11]!];
  if ([12, 13, 14].some((i) => Math.abs(c2w[i]!) > 1e-9) || Math.abs(c2w[15]! - 1) > 1e-9) {
    throw new Error(`${where}: last row must be [0, 0, 0, 1], got [${[12, 13, 14, 15].map((i) => c2w[i]).join(', ')}]`);
  }
  // A rotation: orthonormal columns, determinant +1 (no scale in a camera pose).
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      const d = R[a]! * R[b]! + R[3 + a]! * R[3 + b]! + R[6 + a]! * R[6 + b]!;
      if (Math.abs(d - (a === b ? 1 : 0)) > 1e-4) throw new Error(`${where}: rotation part is not orthonormal (column ${a}·${b} = ${d.toFixed(6)})`);
    }
  }
  const det = R[0]! * (R[4]! * R[8]! - R[5]! * R[7]!) - R[1]! * (R[3]! * R[8]! - R[5]! * R[6]!) + R[2]! * (R[3]! * R[7]! - R[4]! * R[6]!);
  if (det < 0) throw new Error(`${where}: rotation part is a reflection (determinant ${det.toFixed(4)})`);
  const w2c = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    let s = 0;
    for (let c = 0; c < 3; c++) {
      w2c[4 * r + c] = R[3 * c + r]!; // Rᵀ
      s += R[3 * c + r]! * t[c]!;
    }
    w2c[4 * r + 3] = -s;
  }
  w2c[15] = 1;
  return w2c;
}

/** Our world → camera (OpenCV, row-major) → camera → world with OpenGL axes: the inverse of the above. */
export function worldToOpenCvToOpenGlCameraToWorld(w2c: ArrayLike<number>): Float64Array {
  const c2w = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    let s = 0;
    for (let c = 0; c < 3; c++) {
      // c2w_cv = [Rᵀ | −Rᵀ t]; then negate its y and z columns.
      const v = w2c[4 * c + r]!;
      c2w[4 * r + c] = c === 0 ? v : -v;
      s += w2c[4 * c + r]! * w2c[4 * c + 3]!;
    }
    c2w[4 * r + 3] = -s;
  }
  c2w[15] = 1;
  return c2w;
}

type Json = Record<string, unknown>;

/**
 * The camera of frame `i` of a transforms file; `frame` and `top` are the frame object and the file's top
 * level; `imageSize` reads w/h from the image when neither gives them. Errors name `file` and the field.
 */
export function cameraFromTransforms(frame: Json, top: Json, file: string, i: number, imageSize?: () => { width: number; height: number }): Camera {
  const at = (k: string) => `${file}: frames[${i}].${k}`;
  const pick = (k: string): unknown => (frame[k] !== undefined ? frame[k] : top[k]);
  const num = (k: string, positive = false): number | undefined => {
    const v = pick(k);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0))
      throw new Error(`${at(k)}: expected a ${positive ? 'positive ' : ''}number, got ${JSON.stringify(v)}`);
    return v;
  };
  let w = num('w', true),
    h = num('h', true);
  if (w === undefined || h === undefined) {
    if (!imageSize) throw new Error(`${at('w')}: missing (and no image to read the size from)`);
    const s = imageSize();
    w ??= s.width;
    h ??= s.height;
  }
  if (!Number.isInteger(w) || !Number.isInteger(h)) throw new Error(`${at('w')}: image size must be whole pixels, got ${w}×${h}`);
  let fx = num('fl_x', true),
    fy = num('fl_y', true);
  let cx = num('cx'),
    cy = num('cy');
  if (fx === undefined || fy === undefined) {
    const ax = num('camera_angle_x', true);
    if (ax === undefined) throw new Error(`${at('fl_x')}: missing, and no camera_angle_x either (one of them gives the focal length)`);
    if (ax >= Math.PI) throw new Error(`${at('camera_angle_x')}: ${ax} is not a field of view in radians (< π)`);
    fx = w / 2 / Math.tan(ax / 2);
    fy = fx;
  }
  cx ??= w / 2;
  cy ??= h / 2;
  const m = frame['transform_matrix'];
  if (!Array.isArray(m)) throw new Error(`${at('transform_matrix')}: missing (camera-to-world 4×4)`);
  const flat = m.flat();
  if (flat.length !== 16 || flat.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new Error(`${at('transform_matrix')}: expected 4×4 numbers, got ${JSON.stringify(m).slice(0, 80)}`);
  }
  const worldToCamera = openGlCameraToWorldToOpenCv(flat as number[], at('transform_matrix'));
  return { width: w, height: h, fx, fy, cx, cy, worldToCamera, near: GA_NEAR, far: GA_FAR };
}

/** The same camera with at most `maxWidth` pixels across (intrinsics scaled; for CPU previews). */
export function downscaleCamera(cam: Camera, maxWidth: number): Camera {
  if (cam.width <= maxWidth) return cam;
  const s = maxWidth / cam.width;
  const width = maxWidth,
    height = Math.max(1, Math.round(cam.height * s));
  return { ...cam, width, height, fx: cam.fx * s, fy: cam.fy * (height / cam.height), cx: cam.cx * s, cy: cam.cy * (height / cam.height) };
}

/** The camera of an image box-filtered down by the integer `factor` (lib/util/image.ts downsample). */
export function scaleCameraBy(cam: Camera, factor: number): Camera {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`scaleCameraBy: factor must be a positive integer, got ${factor}`);
  return {
    ...cam,
    width: Math.ceil(cam.width / factor),
    height: Math.ceil(cam.height / factor),
    fx: cam.fx / factor,
    fy: cam.fy / factor,
    cx: cam.cx / factor,
    cy: cam.cy / factor,
  };
}
