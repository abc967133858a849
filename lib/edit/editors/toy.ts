/**
 * A toy `EditGroundTruth`: a flat, procedurally drawn "face" (head ellipse, hair cap, eyes, lips, and a
 * mouth that opens with the timestep to show teeth above the tongue) with region labels and four edits
 * (three recolourings and a cheek tattoo).
 * Cameras slide the face sideways; at timestep 0 the mouth is closed and teeth and tongue are hidden.
 *
 * It exists so the editors, the edit server and the cache can be tested and demonstrated without the
 * synthetic head renderer; the data module's ground truth replaces it in real runs.
 */
import type { RgbImage } from '../../util/image.js';
import { Region } from '../../head/regions.js';
import type { EditView } from './editor.js';
import type { EditGroundTruth, GroundTruthEdit } from './offline.js';

type Rgb = readonly [number, number, number];

const BASE: Record<number, Rgb> = {
  [Region.background]: [0.2, 0.3, 0.45],
  [Region.skin]: [0.86, 0.66, 0.55],
  [Region.lips]: [0.75, 0.3, 0.35],
  [Region.teeth]: [0.95, 0.93, 0.88],
  [Region.tongue]: [0.7, 0.25, 0.3],
  [Region.eyes]: [0.95, 0.95, 0.97],
  [Region.hair]: [0.25, 0.15, 0.1],
};

/** The toy's instructions: which region each recolours, and to what; `tattoo` limits it to a mark on the left cheek. */
export const TOY_EDITS: Record<string, { region: number; colour: Rgb; tattoo?: boolean }> = {
  'turn his teeth gold': { region: Region.teeth, colour: [0.85, 0.65, 0.13] },
  'make his lips blue': { region: Region.lips, colour: [0.2, 0.3, 0.8] },
  'give him green hair': { region: Region.hair, colour: [0.2, 0.6, 0.25] },
  'add a tattoo on the left cheek': { region: Region.skin, colour: [0.08, 0.1, 0.25], tattoo: true },
};

/**
 * The tattoo's mark: a three-lobed shape on the left cheek, so that a rotation shows. It sits on
 * the face, so it slides with the camera like the other regions.
 */
export function toyTattoo(view: EditView, width: number, height: number): Uint8Array {
  const mark = new Uint8Array(width * height);
  const cx = 0.5 + 0.08 * (view.camera - 1) + 0.19; // the subject's left is the image's right
  const cy = 0.56;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (x + 0.5) / width - cx;
      const v = (y + 0.5) / height - cy;
      const r = Math.hypot(u, v);
      const phi = Math.atan2(v, u);
      if (r <= 0.085 * (0.55 + 0.45 * Math.cos(3 * phi + 0.4)) || (r <= 0.03 && Math.abs(phi) < 2)) mark[y * width + x] = 1;
    }
  }
  return mark;
}

/** How far the mouth is open at a timestep, in [0, 1]: closed at 0, fully open from 3 on. */
export function toyMouthOpening(timestep: number): number {
  return Math.min(1, timestep / 3);
}

/** Region labels of a view: [H,W] ids. */
export function toyLabels(view: EditView, width: number, height: number): Uint8Array {
  const labels = new Uint8Array(width * height);
  const cx = 0.5 + 0.08 * (view.camera - 1);
  const cy = 0.5;
  const open = toyMouthOpening(view.timestep);
  const my = cy + 0.2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (x + 0.5) / width;
      const v = (y + 0.5) / height;
      const inside = (ax: number, ay: number, rx: number, ry: number) => rx > 0 && ry > 0 && ((u - ax) / rx) ** 2 + ((v - ay) / ry) ** 2 <= 1;
      let r: number = Region.background;
      if (inside(cx, cy, 0.36, 0.44)) {
        r = Region.skin;
        if (v < cy - 0.24) r = Region.hair;
        if (inside(cx - 0.14, cy - 0.1, 0.06, 0.05) || inside(cx + 0.14, cy - 0.1, 0.06, 0.05)) r = Region.eyes;
        if (inside(cx, my, 0.17, 0.07 + 0.05 * open)) r = Region.lips;
        if (inside(cx, my, 0.12, 0.075 * open)) r = v < my ? Region.teeth : Region.tongue;
      }
      labels[y * width + x] = r;
    }
  }
  return labels;
}

/** Renders labels with per-region colours and a soft shading that varies across the image. */
export function toyRender(labels: Uint8Array, width: number, height: number, colours: Record<number, Rgb>): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const shade = 0.8 + 0.2 * Math.cos((3 * x) / width) * Math.cos((2 * y) / height);
      const c = colours[labels[p]!]!;
      for (let k = 0; k < 3; k++) data[3 * p + k] = Math.round(255 * c[k]! * shade) / 255;
    }
  }
  return { width, height, data };
}

export class ToyGroundTruth implements EditGroundTruth {
  readonly id: string;
  lookups = 0;
  constructor(
    readonly width = 32,
    readonly height = 32,
  ) {
    this.id = `toy-face-v1-${width}x${height}`;
  }

  original(view: EditView): RgbImage {
    return toyRender(toyLabels(view, this.width, this.height), this.width, this.height, BASE);
  }

  async lookup(view: EditView, instruction: string): Promise<GroundTruthEdit | null> {
    this.lookups++;
    const e = TOY_EDITS[instruction.trim().toLowerCase()];
    if (!e) return null;
    const { width: W, height: H } = this;
    const labels = toyLabels(view, W, H);
    const original = toyRender(labels, W, H, BASE);
    const recoloured = toyRender(labels, W, H, { ...BASE, [e.region]: e.colour });
    let edited = recoloured;
    if (e.tattoo) {
      const mark = toyTattoo(view, W, H);
      edited = { width: W, height: H, data: original.data.slice() };
      for (let p = 0; p < W * H; p++) {
        if (mark[p] && labels[p] === e.region) for (let c = 0; c < 3; c++) edited.data[3 * p + c] = recoloured.data[3 * p + c]!;
      }
    }
    return { original, edited, labels, target: { regions: [e.region], colour: e.colour, albedo: BASE } };
  }
}
