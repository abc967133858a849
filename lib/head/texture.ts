/**
 * Procedural, seeded appearance of the head in the texture atlas (atlas.ts): an albedo (RGBA8) and a
 * region-label map (lib/head/regions.ts ids), plus the texture-space edits (edits.ts) that give the
 * ground truth of an edited avatar.
 *
 * Every texel knows the neutral-mesh 3D point it maps to (the atlas position map), so features are
 * placed in 3D relative to landmarks found from the geometry (landmarks.ts) and noise is 3D: nothing
 * breaks at UV seams.
 *   skin   tone from a palette, low-frequency tone variation, redness on cheeks, nose and ears, blotches,
 *          pores, a few moles, optional stubble
 *   lips   vermilion between the lip meeting line and an upper (Cupid's bow) and lower contour
 *   brows  arcs above the eyes filled with oriented hair strokes
 *   hair   close-cropped hair above a hairline that runs from the forehead over the ears to the nape
 *   eyes   sclera with veins; the iris (radial fibres, limbal ring) and pupil are painted on the corneal
 *          bulge of the sclera mesh, which in the source is a transparent shell covering the iris mesh
 *   mouth  ivory teeth; pink gums and tongue with papillae
 * Labels: face/neck/ears skin → skin (brows included), lips, scalp hair → hair, teeth, gums and tongue →
 * tongue, sclera and iris → eyes.
 */
import type { HeadModel } from './model.js';
import { Material } from './model.js';
import { rasterizeUv } from './atlas.js';
import { headLandmarks, mouthLineY, type HeadLandmarks, type EyeLandmarks } from './landmarks.js';
import { cellDistance, fbm3, valueNoise3 } from './noise.js';
import { Rng } from '../util/random.js';
import { Region } from './regions.js';
import { applyEdit, type EditId } from './edits.js';
import type { Look, RGB, TextureMasks } from './texture-types.js';

export type { Look, TextureMasks } from './texture-types.js';

export interface HeadTexture {
  model: HeadModel;
  tileSize: number; // S: the atlas is 4S × 3S texels
  width: number;
  height: number;
  albedo: Uint8Array; // [H,W,4] RGBA8, alpha 255
  labels: Uint8Array; // [H,W] region ids
  seed: number;
  editId: EditId | null;
}

export interface TextureOptions {
  seed: number;
  tileSize?: number; // default 256 (face tile 512²)
  edit?: EditId | null;
}

const SKIN: RGB[] = [
  [0.88, 0.71, 0.61],
  [0.82, 0.62, 0.5],
  [0.72, 0.52, 0.4],
  [0.6, 0.42, 0.3],
  [0.45, 0.3, 0.21],
];
const HAIR: RGB[] = [
  [0.07, 0.06, 0.05],
  [0.17, 0.11, 0.07],
  [0.3, 0.2, 0.12],
  [0.52, 0.42, 0.28],
  [0.42, 0.4, 0.38],
];
const IRIS: RGB[] = [
  [0.33, 0.19, 0.09],
  [0.42, 0.32, 0.14],
  [0.28, 0.4, 0.22],
  [0.38, 0.47, 0.55],
  [0.18, 0.11, 0.06],
];

export function lookFromSeed(seed: number): Look {
  const rng = new Rng(seed ^ 0x51ed);
  const jitter = (c: RGB, a: number): RGB => c.map((x) => Math.min(1, Math.max(0, x * (1 + a * (rng.next() - 0.5))))) as RGB;
  const skin = jitter(SKIN[rng.int(SKIN.length)]!, 0.08);
  const hair = jitter(HAIR[rng.int(HAIR.length)]!, 0.15);
  const iris = jitter(IRIS[rng.int(IRIS.length)]!, 0.15);
  const lips: RGB = [0.55 * skin[0] + 0.45 * 0.78, 0.55 * skin[1] + 0.45 * 0.36, 0.55 * skin[2] + 0.45 * 0.38];
  const brow = hair.map((h, k) => 0.55 * h + 0.12 * skin[k]! * 0.5) as RGB;
  return { skin, hair, brow, iris, lips, stubble: rng.next() < 0.5 ? 0.2 + 0.3 * rng.next() : 0, noiseSeed: rng.u32() };
}

const smoothstep = (a: number, b: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
};
const mix = (a: RGB, b: RGB, t: number): RGB => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
const scale = (a: RGB, s: number): RGB => [a[0] * s, a[1] * s, a[2] * s];
const mul = (a: RGB, b: RGB): RGB => [a[0] * b[0], a[1] * b[1], a[2] * b[2]];

export interface IrisGeometry {
  r: number; // mm from the gaze axis
  front: boolean;
  angle: number; // radians around the axis
}

function irisCoords(eye: EyeLandmarks, x: number, y: number, z: number): IrisGeometry {
  const dx = x - eye.centre[0],
    dy = y - eye.centre[1],
    dz = z - eye.centre[2];
  const t = dx * eye.axis[0] + dy * eye.axis[1] + dz * eye.axis[2];
  const px = dx - t * eye.axis[0],
    py = dy - t * eye.axis[1],
    pz = dz - t * eye.axis[2];
  // Angle around the axis, measured in the plane spanned by x' ⟂ axis (horizontal) and y.
  const ex = [eye.axis[2], 0, -eye.axis[0]];
  const el = Math.hypot(ex[0]!, ex[2]!);
  const u = (px * ex[0]! + pz * ex[2]!) / el;
  return { r: 1000 * Math.hypot(px, py, pz), front: t > 0, angle: Math.atan2(py, u) };
}

export const IRIS_RADIUS_MM = 5.9;
export const PUPIL_RADIUS_MM = 2.0;

const HAIRLINE: [number, number][] = [
  // |azimuth| (degrees, 0 = front) → hairline height y (metres)
  [0, 0.097],
  [30, 0.094],
  [50, 0.08],
  [68, 0.062],
  [85, 0.056],
  [105, 0.052],
  [113, 0.045],
  [124, 0.0],
  [138, -0.045],
  [180, -0.06],
];

function hairlineY(azDeg: number): number {
  const a = Math.min(180, Math.abs(azDeg));
  for (let i = 1; i < HAIRLINE.length; i++) {
    const [a1, y1] = HAIRLINE[i]!;
    if (a <= a1) {
      const [a0, y0] = HAIRLINE[i - 1]!;
      return y0 + ((y1 - y0) * (a - a0)) / (a1 - a0);
    }
  }
  return HAIRLINE[HAIRLINE.length - 1]![1];
}

/** Lip mask (soft, 1 inside the vermilion), from the lip meeting line and parametric contours. */
function lipMask(lm: HeadLandmarks, x: number, y: number, z: number): number {
  if (z < lm.mouthFrontZ - 0.02) return 0;
  const xc = lm.mouthCornerX + 0.0015;
  const ax = Math.abs(x);
  if (ax > xc + 0.002) return 0;
  const q = Math.min(1, ax / xc);
  const mm = 1000;
  const dy = (y - mouthLineY(lm, x)) * mm; // mm above the meeting line
  // Upper contour: Cupid's bow peaks at |x| ≈ 5 mm with a dip at the philtrum; lower: a fuller arc.
  const hu = 7.4 * Math.pow(Math.max(0, 1 - Math.pow(q, 1.8)), 0.75) - 1.4 * Math.exp(-(((ax * mm) / 2.6) ** 2)) + 0.6 * Math.exp(-(((ax * mm - 5) / 3) ** 2));
  const hl = 9.6 * Math.pow(Math.max(0, 1 - q * q), 0.6);
  const inside = dy >= 0 ? hu - dy : hl + dy; // mm inside the contour
  const edge = Math.min(inside, (xc - ax) * mm);
  return smoothstep(-0.5, 0.5, edge);
}

function browMask(lm: HeadLandmarks, look: Look, x: number, y: number, z: number): number {
  const eye = x >= 0 ? lm.eyeLeft : lm.eyeRight;
  if (z < eye.centre[2] - 0.01) return 0;
  const mm = 1000;
  const s = (Math.abs(x) - Math.abs(eye.centre[0])) * mm; // mm outward from the eye centre
  const u = (s + 17) / 39; // 0 at the inner end, 1 at the outer end
  if (u < -0.15 || u > 1.15) return 0;
  const yc = eye.centre[1] * mm + 16.5 + 4.2 * (1 - ((u - 0.5) / 0.6) ** 2);
  const half = 3.6 * (1 - u) + 1.3 * u;
  const dy = y * mm - yc;
  const across = smoothstep(0.6, -0.6, Math.abs(dy) - half);
  const along = smoothstep(-0.12, 0.04, u) * smoothstep(1.12, 0.95, u);
  const body = across * along;
  if (body <= 0) return 0;
  // Hair strokes: noise stretched along the growth direction (up at the inner end, outward beyond).
  const th = ((65 * (1 - u) - 12 * u) * Math.PI) / 180;
  const dx = s - 2; // the frame only has to be continuous
  const along3 = (dx * Math.cos(th) + dy * Math.sin(th)) / 2.6;
  const across3 = (-dx * Math.sin(th) + dy * Math.cos(th)) / 0.33;
  const strand = valueNoise3(look.noiseSeed + (x >= 0 ? 11 : 12), along3, across3, 0.5);
  return body * (0.55 + 0.45 * smoothstep(0.3, 0.65, strand));
}

function hairMask(look: Look, x: number, y: number, z: number): number {
  const az = (Math.atan2(x, z - 0.01) * 180) / Math.PI;
  const yl = hairlineY(az) + 0.003 * fbm3(look.noiseSeed + 21, x, y, z, 300, 2);
  return smoothstep(-0.0015, 0.0025, y - yl);
}

interface SurfaceMaps {
  width: number;
  height: number;
  position: Float32Array;
  material: Int8Array;
}

const surfaceCache = new WeakMap<HeadModel, Map<number, SurfaceMaps>>();

function surfaceMaps(model: HeadModel, S: number): SurfaceMaps {
  let m = surfaceCache.get(model);
  if (!m) surfaceCache.set(model, (m = new Map()));
  let s = m.get(S);
  if (!s) {
    const r = rasterizeUv(model, S, model.neutral, 3, Math.max(4, Math.round(S / 32)));
    s = { width: r.width, height: r.height, position: r.data, material: r.material };
    m.set(S, s);
  }
  return s;
}

/** Feature masks and labels for the atlas of tile size S (look-dependent only through hair/brow noise). */
export function textureMasks(model: HeadModel, S: number, look: Look): TextureMasks {
  const sm = surfaceMaps(model, S);
  const lm = headLandmarks(model);
  const n = sm.width * sm.height;
  const lips = new Float32Array(n),
    brows = new Float32Array(n),
    hair = new Float32Array(n);
  const iris = new Float32Array(n),
    pupil = new Float32Array(n),
    labels = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const mat = sm.material[p]!;
    if (mat < 0) continue;
    const x = sm.position[3 * p]!,
      y = sm.position[3 * p + 1]!,
      z = sm.position[3 * p + 2]!;
    switch (mat) {
      case Material.M_Face:
      case Material.M_BackHead: {
        lips[p] = mat === Material.M_Face ? lipMask(lm, x, y, z) : 0;
        brows[p] = mat === Material.M_Face ? browMask(lm, look, x, y, z) : 0;
        hair[p] = hairMask(look, x, y, z);
        labels[p] = lips[p]! > 0.5 ? Region.lips : hair[p]! > 0.5 ? Region.hair : Region.skin;
        break;
      }
      case Material.M_Teeth:
        labels[p] = Region.teeth;
        break;
      case Material.M_GumsTongue:
        labels[p] = Region.tongue;
        break;
      default: {
        const eye = mat === Material.M_ScleraLeft || mat === Material.M_IrisLeft ? lm.eyeLeft : lm.eyeRight;
        const g = irisCoords(eye, x, y, z);
        if (g.front) {
          iris[p] = smoothstep(IRIS_RADIUS_MM + 0.15, IRIS_RADIUS_MM - 0.15, g.r) * smoothstep(PUPIL_RADIUS_MM - 0.1, PUPIL_RADIUS_MM + 0.2, g.r);
          pupil[p] = smoothstep(PUPIL_RADIUS_MM + 0.2, PUPIL_RADIUS_MM - 0.1, g.r);
        }
        labels[p] = Region.eyes;
      }
    }
  }
  return { width: sm.width, height: sm.height, material: sm.material, position: sm.position, lips, brows, hair, iris, pupil, labels };
}

function skinColour(look: Look, lm: HeadLandmarks, x: number, y: number, z: number): RGB {
  const s = look.noiseSeed;
  let c: RGB = scale(look.skin, 1 + 0.07 * fbm3(s + 1, x, y, z, 18, 3));
  // Redness: cheeks, nose, ears; modulated by blotchy noise.
  const g = (cx: number, cy: number, cz: number, sig: number) => Math.exp(-((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2) / (2 * sig * sig));
  const nose = lm.noseTip;
  let red = 0.8 * g(0.045, -0.005, 0.08, 0.016) + 0.8 * g(-0.045, -0.005, 0.08, 0.016) + 0.7 * g(nose[0], nose[1], nose[2], 0.009);
  red += 0.6 * smoothstep(0.062, 0.075, Math.abs(x)) * smoothstep(0.02, -0.01, z);
  red *= 0.7 + 0.6 * (fbm3(s + 2, x, y, z, 45, 2) + 0.5);
  c = mix(c, mul(c, [1.05, 0.87, 0.87]), Math.min(1, red) * 0.6);
  // Blotches and freckle-like spots.
  const bl = fbm3(s + 3, x, y, z, 90, 3);
  c = mix(c, mul(c, [0.97, 0.92, 0.9]), smoothstep(0.1, 0.3, bl) * 0.5);
  const mole = cellDistance(s + 4, x * 40, y * 40, z * 40);
  c = mix(c, mul(c, [0.6, 0.46, 0.4]), smoothstep(0.035, 0.02, mole));
  // Pores: small cells, slightly darker centres.
  const pore = cellDistance(s + 5, x * 900, y * 900, z * 900);
  c = scale(c, 1 - 0.06 * smoothstep(0.35, 0.1, pore) + 0.025 * (valueNoise3(s + 6, x * 2500, y * 2500, z * 2500) - 0.5));
  // Stubble: the beard area (below the nose, in front of the jaw's angle, down to a little under the jaw
  // line), as sparse dark grains rather than a tint.
  if (look.stubble > 0) {
    const yJaw = -0.06 - 0.028 * Math.min(1, Math.max(0, z / 0.09));
    const side = smoothstep(0.02, 0.06, Math.abs(x));
    const below = smoothstep(nose[1] - 0.012 - 0.012 * side, nose[1] - 0.03 - 0.012 * side, y);
    const above = smoothstep(yJaw - 0.014, yJaw - 0.002, y);
    const front = smoothstep(-0.01, 0.015, z);
    const grain = smoothstep(0.55, 0.85, valueNoise3(s + 7, x * 2600, y * 2600, z * 2600));
    const amt = look.stubble * below * above * front * (0.08 + 0.92 * grain);
    c = mix(c, mul(look.hair, [1.1, 1.1, 1.15]), Math.min(0.6, amt));
  }
  return c;
}

function eyeColour(look: Look, lm: HeadLandmarks, mat: number, x: number, y: number, z: number, irisM: number, pupilM: number): RGB {
  const s = look.noiseSeed;
  const eye = mat === Material.M_ScleraLeft || mat === Material.M_IrisLeft ? lm.eyeLeft : lm.eyeRight;
  const g = irisCoords(eye, x, y, z);
  // Sclera: off-white, pinker and veined away from the cornea.
  const off = smoothstep(7, 13, g.r) + (g.front ? 0 : 1);
  let c: RGB = mix([0.93, 0.91, 0.88], [0.88, 0.72, 0.68], 0.5 * Math.min(1, off));
  const vein = Math.abs(fbm3(s + 31, x, y, z, 500, 3));
  c = mix(c, [0.72, 0.28, 0.27], smoothstep(0.03, 0.0, vein) * 0.7 * Math.min(1, off));
  // Iris: radial fibres, a lighter collarette, a dark limbal ring.
  const fib = valueNoise3(s + 32, (g.angle / (2 * Math.PI)) * 60, g.r * 0.9, 0.3);
  let ic = scale(look.iris, 0.75 + 0.5 * fib);
  ic = mix(ic, scale(look.iris, 1.5), 0.45 * Math.exp(-(((g.r - 2.9) / 0.5) ** 2)));
  ic = mix(ic, scale(look.iris, 0.35), smoothstep(4.6, 5.8, g.r));
  c = mix(c, ic, irisM);
  c = mix(c, [0.02, 0.02, 0.025], pupilM);
  return c;
}

/** Builds the seeded albedo and labels, optionally with an edit applied (edits.ts). */
export function makeHeadTexture(model: HeadModel, opts: TextureOptions): HeadTexture {
  const S = opts.tileSize ?? 256;
  if (!Number.isInteger(S) || S < 16 || S > 2048) throw new Error(`makeHeadTexture: tileSize must be an integer in [16, 2048], got ${S}`);
  const look = lookFromSeed(opts.seed);
  const lm = headLandmarks(model);
  const masks = textureMasks(model, S, look);
  const { width: W, height: H, material, position } = masks;
  const rgb = new Float32Array(W * H * 3);
  const s = look.noiseSeed;
  for (let p = 0; p < W * H; p++) {
    const mat = material[p]!;
    if (mat < 0) continue;
    const x = position[3 * p]!,
      y = position[3 * p + 1]!,
      z = position[3 * p + 2]!;
    let c: RGB;
    switch (mat) {
      case Material.M_Face:
      case Material.M_BackHead: {
        c = skinColour(look, lm, x, y, z);
        const lip = masks.lips[p]!;
        if (lip > 0) {
          const wr = 1 + 0.12 * (valueNoise3(s + 41, x * 3000, y * 400, z * 3000) - 0.5);
          c = mix(c, scale(look.lips, wr), lip);
        }
        const brow = masks.brows[p]!;
        if (brow > 0) c = mix(c, look.brow, Math.min(1, brow));
        const hr = masks.hair[p]!;
        if (hr > 0) {
          const az = Math.atan2(x, z - 0.01);
          const strand = valueNoise3(s + 51, (az * 0.08 * 1000) / 0.45, (y * 1000) / 5, 0.7);
          c = mix(c, scale(look.hair, 0.7 + 0.6 * strand), hr);
        }
        break;
      }
      case Material.M_Teeth: {
        const v = 1 + 0.08 * fbm3(s + 61, x, y, z, 250, 2);
        c = scale([0.91, 0.87, 0.76], v);
        break;
      }
      case Material.M_GumsTongue: {
        const pap = valueNoise3(s + 71, x * 1500, y * 1500, z * 1500);
        c = scale([0.8, 0.42, 0.44], 0.92 + 0.16 * pap);
        break;
      }
      default:
        c = eyeColour(look, lm, mat, x, y, z, masks.iris[p]!, masks.pupil[p]!);
    }
    rgb[3 * p] = c[0];
    rgb[3 * p + 1] = c[1];
    rgb[3 * p + 2] = c[2];
  }
  const edit = opts.edit ?? null;
  if (edit) applyEdit(edit, rgb, masks, lm, look);
  const albedo = new Uint8Array(W * H * 4);
  for (let p = 0; p < W * H; p++) {
    for (let k = 0; k < 3; k++) albedo[4 * p + k] = Math.max(0, Math.min(255, Math.round(rgb[3 * p + k]! * 255)));
    albedo[4 * p + 3] = 255;
  }
  return { model, tileSize: S, width: W, height: H, albedo, labels: masks.labels, seed: opts.seed, editId: edit };
}
