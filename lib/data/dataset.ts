/**
 * The synthetic dataset on disk, and its loader. One folder per subject:
 *
 *   dataset.json              subject, identity, texture seed, render settings, cameras, sequences, edits
 *   transforms_train.json     training cameras × training sequence            (reconstruction)
 *   transforms_val.json       held-out cameras × training sequence            (novel-view evaluation)
 *   transforms_test.json      training cameras × held-out sequence, same subject  (self-reenactment)
 *   transforms_cross.json     training cameras × another person's sequence (expressions, jaw, head motion)
 *                             rendered on this subject's identity           (cross-identity reenactment)
 *   images/<sequence>/t<timestep>_c<camera>.png      RGB over the dataset's background colour
 *   fg_masks/<sequence>/t<timestep>_c<camera>.png    8-bit coverage (alpha × 255)
 *   labels/<sequence>/t<timestep>_c<camera>.png      8-bit region ids (lib/head/regions.ts)
 *
 * In the spirit of GaussianAvatars / NeRSemble's transforms files: every frame carries its camera (fx, fy,
 * cx, cy, w, h; `world_to_camera` is our row-major 4×4, OpenCV axes, metres), `timestep_index` (within the
 * split's sequence), `camera_index`, the image/mask/label paths (relative to the folder) and the full head
 * parameters; each transforms file also lists the sequence's head parameters per timestep.
 *
 * Every file is validated with zod; a bad one is an error naming the file and the field, e.g.
 * `.../transforms_train.json: frames[3].fx: Invalid input: expected number, received string`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { Camera } from '../raster/types.js';
import type { HeadParams } from '../head/pose.js';
import { N_EXPRESSION, N_IDENTITY } from '../head/model.js';
import { pngFileSize, readPng } from '../util/image.js';
import type { RgbImage } from '../util/image.js';

export const DATASET_FORMAT = 'gae-synthetic-head';
export const DATASET_VERSION = 1;

export const SPLITS = ['train', 'val', 'test', 'cross'] as const;
export type SplitName = (typeof SPLITS)[number];
export const SEQUENCES = ['train', 'heldout', 'cross'] as const;
export type SequenceName = (typeof SEQUENCES)[number];

/** Which sequence and which cameras make each split. */
export const SPLIT_DEFINITION: Record<SplitName, { sequence: SequenceName; cameras: 'training' | 'held-out'; description: string }> = {
  train: { sequence: 'train', cameras: 'training', description: 'training cameras × training sequence (reconstruction)' },
  val: { sequence: 'train', cameras: 'held-out', description: 'held-out cameras × training sequence (novel view)' },
  test: { sequence: 'heldout', cameras: 'training', description: 'training cameras × held-out sequence of the same subject (self-reenactment)' },
  cross: { sequence: 'cross', cameras: 'training', description: "training cameras × another person's sequence on this subject's identity (cross-identity reenactment)" },
};

const num = z.number().finite();
const vec = (n: number) => z.array(num).length(n);

export const headJson = z.object({
  identity: vec(N_IDENTITY),
  expression: vec(N_EXPRESSION),
  jaw: vec(3),
  neck: vec(3),
  translation: vec(3),
});
export type HeadJson = z.infer<typeof headJson>;

const intrinsics = {
  fx: num.positive(),
  fy: num.positive(),
  cx: num,
  cy: num,
  w: z.number().int().positive(),
  h: z.number().int().positive(),
  world_to_camera: vec(16),
  near: num.positive(),
  far: num.positive(),
};

export const cameraJson = z.object({
  camera_index: z.number().int().nonnegative(),
  camera_id: z.string(),
  held_out: z.boolean(),
  azimuth_deg: num,
  elevation_deg: num,
  ...intrinsics,
});
export type CameraJson = z.infer<typeof cameraJson>;

export const editJson = z.object({
  id: z.string(),
  prompt: z.string(),
  caption: z.string(),
  regions: z.array(z.number().int()),
});

const splitEntry = z.object({ file: z.string(), sequence: z.enum(SEQUENCES), cameras: z.array(z.number().int()), description: z.string() });

export const datasetJson = z.object({
  format: z.literal(DATASET_FORMAT),
  version: z.literal(DATASET_VERSION),
  subject: z.string().min(1),
  preset: z.string(),
  seed: z.number().int(),
  identity: vec(N_IDENTITY),
  texture_seed: z.number().int(),
  texture_tile_size: z.number().int().positive(),
  render: z.object({
    supersample: z.number().int().min(1).max(8),
    background: vec(3),
    shading: z.object({ ambient: num, diffuse: num, light_dir: vec(3), occlusion: z.boolean() }),
  }),
  head_model: z.object({ name: z.string(), license: z.string(), vertex_count: z.number().int(), triangle_count: z.number().int() }),
  world: z.object({ units: z.literal('metres'), axes: z.string() }),
  cameras: z.array(cameraJson).min(1),
  sequences: z.object({
    train: z.object({ seed: z.number().int(), timesteps: z.number().int().positive(), seconds_per_timestep: num }),
    heldout: z.object({ seed: z.number().int(), timesteps: z.number().int().positive(), seconds_per_timestep: num }),
    cross: z.object({
      seed: z.number().int(),
      timesteps: z.number().int().positive(),
      seconds_per_timestep: num,
      driver_identity: vec(N_IDENTITY),
    }),
  }),
  splits: z.object({ train: splitEntry, val: splitEntry, test: splitEntry, cross: splitEntry }),
  edits: z.array(editJson),
  original_caption: z.string(),
});
export type DatasetJson = z.infer<typeof datasetJson>;

export const frameJson = z.object({
  file_path: z.string(),
  fg_mask_path: z.string(),
  label_path: z.string(),
  timestep_index: z.number().int().nonnegative(),
  camera_index: z.number().int().nonnegative(),
  camera_id: z.string(),
  ...intrinsics,
  head: headJson,
});
export type FrameJson = z.infer<typeof frameJson>;

export const transformsJson = z.object({
  split: z.enum(SPLITS),
  sequence: z.enum(SEQUENCES),
  subject: z.string(),
  identity: vec(N_IDENTITY),
  driver_identity: vec(N_IDENTITY).optional(),
  texture_seed: z.number().int(),
  background: vec(3),
  edits: z.array(editJson),
  timesteps: z.array(z.object({ timestep_index: z.number().int().nonnegative(), time: num, category: z.string(), head: headJson })),
  frames: z.array(frameJson),
});
export type TransformsJson = z.infer<typeof transformsJson>;

/**
 * JSON with 2-space indentation but arrays of numbers on one line: readable transforms files a tenth the
 * length of JSON.stringify(v, null, 2)'s.
 */
export function stringifyCompact(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x === 'number')) return `[${value.map((x) => JSON.stringify(x)).join(', ')}]`;
    if (value.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((x) => inner + stringifyCompact(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${stringifyCompact(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** `frames[3].fx` from zod's path. */
export function formatPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(root)';
}

/** Parses `value` with `schema`, or throws `<file>: <field>: <message>` for the first issue. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
  throw new Error(`${file}: ${formatPath(i.path)}: ${i.message}${more}`);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

export function headFromJson(h: HeadJson): HeadParams {
  return {
    identity: Float32Array.from(h.identity),
    expression: Float32Array.from(h.expression),
    jaw: [h.jaw[0]!, h.jaw[1]!, h.jaw[2]!],
    neck: [h.neck[0]!, h.neck[1]!, h.neck[2]!],
    translation: [h.translation[0]!, h.translation[1]!, h.translation[2]!],
  };
}

/** Head parameters as JSON numbers (float32 values printed exactly as their shortest decimal). */
export function headToJson(p: HeadParams): HeadJson {
  return {
    identity: Array.from(p.identity),
    expression: Array.from(p.expression),
    jaw: [...p.jaw],
    neck: [...p.neck],
    translation: [...p.translation],
  };
}

export function cameraFromJson(c: { fx: number; fy: number; cx: number; cy: number; w: number; h: number; world_to_camera: number[]; near: number; far: number }): Camera {
  return { width: c.w, height: c.h, fx: c.fx, fy: c.fy, cx: c.cx, cy: c.cy, worldToCamera: Float64Array.from(c.world_to_camera), near: c.near, far: c.far };
}

export interface DatasetFrame {
  split: SplitName;
  sequence: SequenceName;
  /** Position of the frame in its split's `frames`. */
  index: number;
  timestep: number;
  cameraIndex: number;
  cameraId: string;
  camera: Camera;
  head: HeadParams;
  image: string; // absolute path
  mask: string;
  labels: string;
}

/** A frame's id in records and messages: `<split>/t<timestep, 4 digits>/<camera id>`. */
export function frameId(frame: Pick<DatasetFrame, 'split' | 'timestep' | 'cameraId'>): string {
  return `${frame.split}/t${String(frame.timestep).padStart(4, '0')}/${frame.cameraId}`;
}

export interface DatasetSplit {
  name: SplitName;
  sequence: SequenceName;
  file: string; // absolute path of the transforms file
  timesteps: { index: number; time: number; category: string; head: HeadParams }[];
  frames: DatasetFrame[];
  driverIdentity?: Float32Array;
}

export interface SyntheticDataset {
  dir: string;
  meta: DatasetJson;
  splits: Record<SplitName, DatasetSplit>;
}

export interface LoadOptions {
  /** Check that every image, mask and label file exists (default true). */
  checkFiles?: boolean;
}

/** Runs the tasks at most 64 at a time (each holds a file descriptor; a full dataset has thousands). */
async function inBatches(tasks: Array<() => Promise<void>>, width = 64): Promise<void> {
  for (let i = 0; i < tasks.length; i += width) await Promise.all(tasks.slice(i, i + width).map((t) => t()));
}

export async function loadDataset(dir: string, opts: LoadOptions = {}): Promise<SyntheticDataset> {
  const root = path.resolve(dir);
  const metaFile = path.join(root, 'dataset.json');
  const meta = parseOrThrow(datasetJson, await readJson(metaFile), metaFile);
  const cams = new Map(meta.cameras.map((c) => [c.camera_index, c]));
  const splits = {} as Record<SplitName, DatasetSplit>;
  for (const name of SPLITS) {
    const file = path.join(root, meta.splits[name].file);
    const t = parseOrThrow(transformsJson, await readJson(file), file);
    if (t.split !== name) throw new Error(`${file}: split: expected "${name}", got "${t.split}"`);
    const ts = new Set(t.timesteps.map((s) => s.timestep_index));
    const frames: DatasetFrame[] = t.frames.map((f, i) => {
      if (!cams.has(f.camera_index)) throw new Error(`${file}: frames[${i}].camera_index: ${f.camera_index} is not a camera of dataset.json`);
      if (!ts.has(f.timestep_index)) throw new Error(`${file}: frames[${i}].timestep_index: ${f.timestep_index} is not in timesteps`);
      return {
        split: name,
        sequence: t.sequence,
        index: i,
        timestep: f.timestep_index,
        cameraIndex: f.camera_index,
        cameraId: f.camera_id,
        camera: cameraFromJson(f),
        head: headFromJson(f.head),
        image: path.join(root, f.file_path),
        mask: path.join(root, f.fg_mask_path),
        labels: path.join(root, f.label_path),
      };
    });
    if (opts.checkFiles ?? true) {
      // Every image's size against its camera, from the PNG headers: a wrong-size validation image must
      // fail now, not after an hour of training.
      await inBatches(
        t.frames.flatMap((f, i) =>
          (['file_path', 'fg_mask_path', 'label_path'] as const).map((k) => async () => {
            const p = path.join(root, f[k]);
            let size: { width: number; height: number };
            try {
              size = await pngFileSize(p);
            } catch (e) {
              if ((e as Error).message.includes('ENOENT')) throw new Error(`${p}: missing (frames[${i}].${k} in ${file})`, { cause: e });
              throw new Error(`${(e as Error).message} (frames[${i}].${k} in ${file})`, { cause: e });
            }
            if (size.width !== f.w || size.height !== f.h) {
              throw new Error(`${p}: size ${size.width}×${size.height} does not match the camera's ${f.w}×${f.h} (frames[${i}].${k} in ${file})`);
            }
          }),
        ),
      );
    }
    splits[name] = {
      name,
      sequence: t.sequence,
      file,
      timesteps: t.timesteps.map((s) => ({ index: s.timestep_index, time: s.time, category: s.category, head: headFromJson(s.head) })),
      frames,
      ...(t.driver_identity ? { driverIdentity: Float32Array.from(t.driver_identity) } : {}),
    };
  }
  return { dir: root, meta, splits };
}

export interface FrameImages {
  rgb: RgbImage;
  alpha: Float32Array; // [H,W] foreground coverage in [0, 1]
  labels: Uint8Array; // [H,W] region ids
}

/** Reads a frame's image, mask and labels, checking their sizes against the frame's camera. */
export async function loadFrameImages(frame: DatasetFrame): Promise<FrameImages> {
  const [rgb, alpha, labels] = await Promise.all([loadFrameRgb(frame), loadFrameAlpha(frame), loadFrameLabels(frame)]);
  return { rgb, alpha, labels };
}

async function readFramePng(frame: DatasetFrame, file: string) {
  const d = await readPng(file);
  if (d.rgb.width !== frame.camera.width || d.rgb.height !== frame.camera.height) {
    throw new Error(`${file}: size ${d.rgb.width}×${d.rgb.height} does not match the camera's ${frame.camera.width}×${frame.camera.height}`);
  }
  return d;
}

/** The frame's captured image alone (one PNG decode instead of loadFrameImages' three). */
export async function loadFrameRgb(frame: DatasetFrame): Promise<RgbImage> {
  return (await readFramePng(frame, frame.image)).rgb;
}

/** The frame's foreground coverage alone. */
export async function loadFrameAlpha(frame: DatasetFrame): Promise<Float32Array> {
  const mask = await readFramePng(frame, frame.mask);
  const alpha = new Float32Array(mask.raw0.length);
  for (let i = 0; i < alpha.length; i++) alpha[i] = mask.raw0[i]! / 255;
  return alpha;
}

/** The frame's region labels alone. */
export async function loadFrameLabels(frame: DatasetFrame): Promise<Uint8Array> {
  return (await readFramePng(frame, frame.labels)).raw0;
}
