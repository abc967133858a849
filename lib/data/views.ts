/**
 * Looking at a synthetic dataset: region labels as colours, a summary of its splits, its cameras, and an
 * overview grid (cameras × timesteps, with a ground-truth edit and the labels) for notebooks and figures.
 */
import type { GpuContext } from '../gpu/device.js';
import { loadHeadModel } from '../head/model.js';
import type { HeadParams } from '../head/pose.js';
import type { Camera } from '../raster/types.js';
import type { GridRow, GridSpec } from '../image/grid.js';
import { cropImage, rgbImage, upscale, type RgbImage } from '../util/image.js';
import { cameraFromJson, loadFrameImages, SPLITS, type DatasetFrame, type SplitName, type SyntheticDataset } from './dataset.js';
import { poseFrames, renderGroundTruth } from './ground-truth.js';
import { Region, REGION_NAMES } from '../head/regions.js';
import { EXPRESSION_NAMES } from './sequences.js';

/** One colour per region id (lib/head/regions.ts order): background, skin, lips, teeth, tongue, eyes, hair. */
export const REGION_COLOURS: readonly [number, number, number][] = [
  [1, 1, 1],
  [0.93, 0.75, 0.6],
  [0.85, 0.15, 0.2],
  [0.98, 0.95, 0.5],
  [0.9, 0.45, 0.75],
  [0.2, 0.5, 0.95],
  [0.3, 0.22, 0.15],
];

/** A label map (region ids, [H,W]) as colours; unknown ids are black. */
export function labelImage(labels: Uint8Array, width: number, height: number): RgbImage {
  if (labels.length !== width * height) throw new Error(`labelImage: ${labels.length} labels for a ${width}×${height} image`);
  const img = rgbImage(width, height);
  for (let p = 0; p < width * height; p++) img.data.set(REGION_COLOURS[labels[p]!] ?? [0, 0, 0], 3 * p);
  return img;
}

/** The legend of `labelImage`: region name and its colour as CSS rgb(). */
export function regionLegend(): { region: string; id: number; colour: string }[] {
  return REGION_NAMES.map((region, id) => {
    const [r, g, b] = REGION_COLOURS[id]!.map((v) => Math.round(v * 255));
    return { region, id, colour: `rgb(${r}, ${g}, ${b})` };
  });
}

/** One row per split: what it is for and what it holds. */
export function datasetSummary(ds: SyntheticDataset): { split: SplitName; sequence: string; cameras: string; timesteps: number; frames: number; description: string }[] {
  return SPLITS.map((name) => {
    const s = ds.splits[name];
    const cams = [...new Set(s.frames.map((f) => f.cameraId))];
    return { split: name, sequence: s.sequence, cameras: cams.join(' '), timesteps: s.timesteps.length, frames: s.frames.length, description: ds.meta.splits[name].description };
  });
}

export interface DatasetCamera {
  index: number;
  id: string;
  heldOut: boolean;
  camera: Camera;
  azimuthDeg: number;
  elevationDeg: number;
}

/** The rig as stored in dataset.json. */
export function datasetCameras(ds: Pick<SyntheticDataset, 'meta'>): DatasetCamera[] {
  return ds.meta.cameras.map((c) => ({ index: c.camera_index, id: c.camera_id, heldOut: c.held_out, camera: cameraFromJson(c), azimuthDeg: c.azimuth_deg, elevationDeg: c.elevation_deg }));
}

const JAW_OPEN = EXPRESSION_NAMES.indexOf('jawOpen');
const OPEN_MOUTH = new Set(['talk', 'open-smile', 'surprise']);

/** How far the mouth is open: jaw rotation (radians) plus the jawOpen expression weight. */
export function mouthOpenness(head: HeadParams): number {
  return Math.hypot(...head.jaw) + (head.expression[JAW_OPEN] ?? 0);
}

/**
 * Timesteps worth looking at in a split: the first neutral one and the one with the mouth open widest
 * (open-mouth categories first), then others in order, up to `count`.
 */
export function showcaseTimesteps(ds: SyntheticDataset, split: SplitName = 'train', count = 2): number[] {
  const ts = ds.splits[split].timesteps;
  const out: number[] = [];
  const neutral = ts.find((t) => t.category === 'neutral') ?? ts[0];
  if (neutral) out.push(neutral.index);
  const open = [...ts].sort((a, b) => Number(OPEN_MOUTH.has(b.category)) - Number(OPEN_MOUTH.has(a.category)) || mouthOpenness(b.head) - mouthOpenness(a.head))[0];
  if (open && !out.includes(open.index)) out.push(open.index);
  for (const t of ts) if (!out.includes(t.index)) out.push(t.index);
  return out.slice(0, count);
}

/**
 * `count` cameras of a split, spread over azimuths in [−maxDeg, maxDeg] (the nearest unused camera to each of
 * `count` evenly spaced azimuths), ordered left to right: a near-frontal view is always among them.
 */
export function spreadCameras(ds: SyntheticDataset, split: SplitName = 'train', count = 4, maxDeg = 60): number[] {
  const used = new Set(ds.splits[split].frames.map((f) => f.cameraIndex));
  const cams = ds.meta.cameras.filter((c) => used.has(c.camera_index));
  if (count >= cams.length) return cams.map((c) => c.camera_index).sort((a, b) => a - b);
  const out: typeof cams = [];
  for (let i = 0; i < count; i++) {
    const target = count === 1 ? 0 : -maxDeg + (2 * maxDeg * i) / (count - 1);
    let best: (typeof cams)[number] | undefined;
    for (const c of cams) if (!out.includes(c) && (!best || Math.abs(c.azimuth_deg - target) < Math.abs(best.azimuth_deg - target))) best = c;
    out.push(best!);
  }
  return out.sort((a, b) => a.azimuth_deg - b.azimuth_deg).map((c) => c.camera_index);
}

export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The box around the pixels `select` accepts (p = y·width + x), grown by `margin` (a fraction of its larger
 * side) and clamped to the image; null if no pixel is selected.
 */
export function pixelBox(width: number, height: number, select: (p: number) => boolean, margin = 0): PixelBox | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!select(y * width + x)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return null;
  const m = Math.round(margin * Math.max(x1 - x0 + 1, y1 - y0 + 1));
  const x = Math.max(0, x0 - m), y = Math.max(0, y0 - m);
  return { x, y, width: Math.min(width, x1 + 1 + m) - x, height: Math.min(height, y1 + 1 + m) - y };
}

const MOUTH_REGIONS = new Set<number>([Region.lips, Region.teeth, Region.tongue]);

/** The box around a view's mouth (lips, teeth, tongue), grown by `margin` of its size; null if none is visible. */
export function mouthBox(labels: ArrayLike<number>, width: number, height: number, margin = 0.3): PixelBox | null {
  return pixelBox(width, height, (p) => MOUTH_REGIONS.has(labels[p]!), margin);
}

/** The smallest box holding all of `boxes` (nulls skipped); null if there are none. */
export function unionBox(boxes: (PixelBox | null)[]): PixelBox | null {
  const bs = boxes.filter((b): b is PixelBox => b !== null);
  if (bs.length === 0) return null;
  const x = Math.min(...bs.map((b) => b.x)), y = Math.min(...bs.map((b) => b.y));
  return { x, y, width: Math.max(...bs.map((b) => b.x + b.width)) - x, height: Math.max(...bs.map((b) => b.y + b.height)) - y };
}

export interface OverviewOptions {
  split?: SplitName;
  /** Camera indices (columns); default 4 spread over the split's cameras. */
  cameras?: number[];
  /** Timesteps (one row of stored images each); default `showcaseTimesteps(ds, split, 2)`. */
  timesteps?: number[];
  /** Ground-truth edit rendered at the last timestep (null: no edit row). Default 'gold-teeth'. */
  edit?: string | null;
  /** Add a row of region labels at the last timestep. Default true. */
  labels?: boolean;
  /** Crop each column to the head (its coverage over the rows, plus 8%). Default true. */
  cropToHead?: boolean;
  /** Add mouth close-ups at the last timestep (stored, and the edit's ground truth), enlarged. Default true. */
  mouth?: boolean;
}

/**
 * A grid of a dataset: columns are cameras; rows are the stored images of some timesteps, the ground truth
 * of an edit at the last of them (re-rendered with the edited texture), the region labels, and close-ups of
 * the mouth (its box from the labels: lips, teeth, tongue) where small edits such as gold teeth show.
 */
export async function overviewGrid(ctx: GpuContext, ds: SyntheticDataset, opts: OverviewOptions = {}): Promise<GridSpec> {
  const split = opts.split ?? 'train';
  const s = ds.splits[split];
  const cams = opts.cameras ?? spreadCameras(ds, split);
  const ts = opts.timesteps ?? showcaseTimesteps(ds, split, 2);
  if (cams.length === 0 || ts.length === 0) throw new Error(`overviewGrid: split ${split} has no frames`);
  const frame = (t: number, c: number): DatasetFrame => {
    const f = s.frames.find((x) => x.timestep === t && x.cameraIndex === c);
    if (!f) throw new Error(`overviewGrid: ${s.file} has no frame for timestep ${t}, camera ${c}`);
    return f;
  };
  const category = (t: number) => s.timesteps.find((x) => x.index === t)?.category ?? '';
  const last = ts[ts.length - 1]!;
  const edit = opts.edit === undefined ? 'gold-teeth' : opts.edit;
  // Per column: the stored frames of every row's timestep, the edit's ground truth and the labels at `last`.
  const columns = await Promise.all(
    cams.map(async (c) => {
      const stored = await Promise.all(ts.map((t) => loadFrameImages(frame(t, c))));
      const f = frame(last, c);
      const gt = edit !== null ? (await renderGroundTruth(ctx, ds, f, edit)).rgb : null;
      const atLast = stored[ts.length - 1]!;
      const w = f.camera.width, h = f.camera.height;
      const head = opts.cropToHead ?? true ? unionBox(stored.map((im) => pixelBox(w, h, (p) => im.alpha[p]! > 0.02, 0.08))) : null;
      const mouth = mouthBox(atLast.labels, w, h, 0.35);
      return { stored, gt, labels: labelImage(atLast.labels, w, h), head: head ?? { x: 0, y: 0, width: w, height: h }, mouth };
    }),
  );
  const tile = (img: RgbImage, col: (typeof columns)[number]) => cropImage(img, col.head);
  const rows: GridRow[] = ts.map((t, r) => ({ label: `t${t} ${category(t)}`, images: columns.map((col) => tile(col.stored[r]!.rgb, col)) }));
  if (edit !== null) rows.push({ label: `t${last} GT ${edit}`, images: columns.map((col) => tile(col.gt!, col)) });
  if (opts.labels ?? true) rows.push({ label: `t${last} labels`, images: columns.map((col) => tile(col.labels, col)) });
  if (opts.mouth ?? true) {
    // Enlarged to about the size of the column's other tiles.
    const closeUp = (img: RgbImage, col: (typeof columns)[number]) =>
      col.mouth ? upscale(cropImage(img, col.mouth), Math.max(1, Math.floor(Math.min(col.head.height / col.mouth.height, col.head.width / col.mouth.width)))) : null;
    rows.push({ label: `t${last} mouth`, images: columns.map((col) => closeUp(col.stored[ts.length - 1]!.rgb, col)) });
    if (edit !== null) rows.push({ label: `t${last} GT mouth`, images: columns.map((col) => closeUp(col.gt!, col)) });
  }
  return { columns: cams.map((c) => ds.meta.cameras.find((x) => x.camera_index === c)?.camera_id ?? `cam${c}`), rows };
}

/** Axis-aligned bounds of points (Float32Array [N,3], metres). */
export function boundingBox(points: Float32Array): { min: [number, number, number]; max: [number, number, number] } {
  if (points.length < 3 || points.length % 3 !== 0) throw new Error(`boundingBox: expected [N,3] points, got ${points.length} values`);
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < points.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const v = points[i + k]!;
      if (v < min[k]!) min[k] = v;
      if (v > max[k]!) max[k] = v;
    }
  }
  return { min, max };
}

/** The posed head mesh of a split's timestep (vertices Float32Array [V,3], metres, world frame). */
export async function posedHead(ctx: GpuContext, ds: SyntheticDataset, split: SplitName = 'train', timestep = 0): Promise<Float32Array> {
  const t = ds.splits[split].timesteps.find((x) => x.index === timestep);
  if (!t) throw new Error(`posedHead: ${ds.splits[split].file} has no timestep ${timestep}`);
  const [verts] = await poseFrames(ctx, await loadHeadModel(), [t.head]);
  return verts!;
}
