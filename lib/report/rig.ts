/**
 * The camera rig in 3D (a Plotly scatter3d spec): each camera's centre, labelled with its id, and its viewing
 * frustum cut at a small depth (so the intrinsics show: principal point offsets tilt the pyramid); training
 * and held-out cameras in two colours; the head's bounding box; optionally a sample of head points.
 * World frame: the head model's (x to the subject's left, y up, z out of the face), metres.
 */
import { cameraCentre } from '../raster/camera.js';
import type { Camera } from '../raster/types.js';
import type { Figure } from './figures.js';

type V3 = [number, number, number];

export interface RigFigureCamera {
  id: string;
  heldOut: boolean;
  camera: Camera;
}

export interface RigFigureOptions {
  /** Axis-aligned box drawn as a wireframe (the head's bounds). */
  box?: { min: V3; max: V3 };
  /** Points drawn as small markers (Float32Array [N,3], metres), subsampled to `maxPoints`. */
  points?: Float32Array;
  maxPoints?: number; // default 1500
  /** Depth at which frusta are cut, metres. Default 0.15. */
  frustumDepth?: number;
  title?: string;
}

const COLOURS = { training: '#1f77b4', heldOut: '#d62728', box: '#2ca02c', points: '#7f7f7f' };

/** Rounds to 0.01 mm: keeps the spec small in notebooks without moving anything visibly. */
const r5 = (v: number) => Math.round(v * 1e5) / 1e5;

/** World position of pixel (u, v) at camera depth z (OpenCV: x right, y down, z forward). */
export function unproject(cam: Camera, u: number, v: number, z: number): V3 {
  const m = cam.worldToCamera;
  const pc: V3 = [((u - cam.cx) / cam.fx) * z, ((v - cam.cy) / cam.fy) * z, z];
  const c = cameraCentre(cam);
  // world = C + Rᵀ p_cam
  return [0, 1, 2].map((k) => c[k]! + m[k]! * pc[0] + m[4 + k]! * pc[1] + m[8 + k]! * pc[2]) as V3;
}

/** The 12 edges of a box as line segments. */
export function boxEdges(min: V3, max: V3): [V3, V3][] {
  const corner = (i: number): V3 => [i & 1 ? max[0] : min[0], i & 2 ? max[1] : min[1], i & 4 ? max[2] : min[2]];
  const edges: [V3, V3][] = [];
  for (let i = 0; i < 8; i++) for (const bit of [1, 2, 4]) if (!(i & bit)) edges.push([corner(i), corner(i | bit)]);
  return edges;
}

/** Line segments as one trace's coordinate arrays, separated by nulls. */
function polyline(segments: V3[][]): { x: (number | null)[]; y: (number | null)[]; z: (number | null)[] } {
  const x: (number | null)[] = [],
    y: (number | null)[] = [],
    z: (number | null)[] = [];
  segments.forEach((seg, i) => {
    if (i > 0) {
      x.push(null);
      y.push(null);
      z.push(null);
    }
    for (const p of seg) {
      x.push(r5(p[0]));
      y.push(r5(p[1]));
      z.push(r5(p[2]));
    }
  });
  return { x, y, z };
}

export function cameraRigFigure(cameras: RigFigureCamera[], opts: RigFigureOptions = {}): Figure {
  if (cameras.length === 0) throw new Error('cameraRigFigure: no cameras');
  const depth = opts.frustumDepth ?? 0.15;
  const data: Record<string, unknown>[] = [];
  for (const [held, name, colour] of [
    [false, 'training cameras', COLOURS.training],
    [true, 'held-out cameras', COLOURS.heldOut],
  ] as const) {
    const cams = cameras.filter((c) => c.heldOut === held);
    if (cams.length === 0) continue;
    const centres = cams.map((c) => cameraCentre(c.camera));
    data.push({
      type: 'scatter3d',
      mode: 'markers+text',
      name,
      legendgroup: name,
      x: centres.map((p) => r5(p[0])),
      y: centres.map((p) => r5(p[1])),
      z: centres.map((p) => r5(p[2])),
      text: cams.map((c) => c.id),
      textposition: 'top center',
      marker: { size: 4, color: colour },
      hovertemplate: '%{text}<br>(%{x:.3f}, %{y:.3f}, %{z:.3f}) m<extra></extra>',
    });
    const segments: V3[][] = [];
    cams.forEach((c, i) => {
      const k = c.camera;
      const corners = [unproject(k, 0, 0, depth), unproject(k, k.width, 0, depth), unproject(k, k.width, k.height, depth), unproject(k, 0, k.height, depth)];
      segments.push([...corners, corners[0]!]);
      for (const q of corners) segments.push([centres[i]!, q]);
    });
    data.push({
      type: 'scatter3d',
      mode: 'lines',
      name: `${name} (frusta)`,
      legendgroup: name,
      showlegend: false,
      ...polyline(segments),
      line: { color: colour, width: 2 },
      hoverinfo: 'skip',
    });
  }
  if (opts.box) {
    data.push({
      type: 'scatter3d',
      mode: 'lines',
      name: 'head bounding box',
      ...polyline(boxEdges(opts.box.min, opts.box.max)),
      line: { color: COLOURS.box, width: 3 },
      hoverinfo: 'skip',
    });
  }
  if (opts.points) {
    const n = Math.floor(opts.points.length / 3);
    const step = Math.max(1, Math.ceil(n / (opts.maxPoints ?? 1500)));
    const x: number[] = [],
      y: number[] = [],
      z: number[] = [];
    for (let i = 0; i < n; i += step) {
      x.push(r5(opts.points[3 * i]!));
      y.push(r5(opts.points[3 * i + 1]!));
      z.push(r5(opts.points[3 * i + 2]!));
    }
    data.push({ type: 'scatter3d', mode: 'markers', name: 'head', x, y, z, marker: { size: 1.5, color: COLOURS.points, opacity: 0.6 }, hoverinfo: 'skip' });
  }
  const axis = (title: string) => ({ title: { text: title }, backgroundcolor: 'white', gridcolor: '#ddd', zerolinecolor: '#bbb' });
  return {
    data,
    layout: {
      title: { text: opts.title ?? `camera rig (${cameras.length} cameras)` },
      font: { family: 'DejaVu Sans, Arial, sans-serif', size: 12 },
      scene: {
        aspectmode: 'data',
        xaxis: axis("x (subject's left), m"),
        yaxis: axis('y (up), m'),
        zaxis: axis('z (out of the face), m'),
        // Looking from above and in front, y up: the arc of cameras and the head in one view.
        camera: { up: { x: 0, y: 1, z: 0 }, eye: { x: 0.45, y: 1.8, z: 1.65 } },
      },
      legend: { orientation: 'h', y: -0.05 },
      margin: { l: 0, r: 0, t: 50, b: 0 },
      paper_bgcolor: 'white',
    },
  };
}
