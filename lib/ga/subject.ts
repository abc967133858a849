/**
 * A GaussianAvatars subject folder, read in place:
 *
 *   transforms_train.json   training cameras × training sequence           (reconstruction)
 *   transforms_val.json     held-out cameras × training sequence           (novel view)
 *   transforms_test.json    training cameras × held-out sequence           (self-reenactment)
 *   canonical_flame_param.npz                                              (shape, static_offset)
 *   <frame file_path>       RGBA images, composited over the background
 *   <frame flame_param_path> per-timestep FLAME parameters (flame-params.ts)
 *
 * With `cross`, another subject's held-out sequence (its expressions and poses, this subject's shape and
 * static offset) is paired with this subject's training cameras: the cross-identity split, without images.
 * Cameras are converted to our contract by camera.ts. Every error names the file and the field.
 */
import { closeSync, openSync, readSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Camera } from '../raster/types.js';
import type { FlameModel } from '../head/flame/model.js';
import type { FlameParams } from '../head/flame/lbs.js';
import { cameraFromTransforms } from './camera.js';
import { readGaFlameFrame, type GaFlameFrame } from './flame-params.js';

export const GA_SPLITS = ['train', 'val', 'test', 'cross'] as const;
export type GaSplitName = (typeof GA_SPLITS)[number];
const FILES: Record<Exclude<GaSplitName, 'cross'>, string> = { train: 'transforms_train.json', val: 'transforms_val.json', test: 'transforms_test.json' };

export interface GaFrame {
  split: GaSplitName;
  index: number; // position in the split
  timestep: number;
  cameraIndex: number;
  camera: Camera;
  /** Absolute image path (RGBA); absent for the cross split, which has no captures. */
  image?: string;
  /** Absolute path of the frame's FLAME parameters (the driving subject's, for cross). */
  flameParamPath: string;
}

export interface GaSplit {
  name: GaSplitName;
  file: string; // the transforms file it came from
  frames: GaFrame[];
}

export interface GaSubject {
  dir: string;
  name: string;
  splits: Partial<Record<GaSplitName, GaSplit>>;
  /** FLAME parameters per flame_param_path (absolute). Cross frames carry this subject's shape. */
  flame: Map<string, FlameParams>;
  /** The subject's static offset [V,3] from canonical_flame_param.npz (else the first training frame's). */
  staticOffset?: Float32Array;
  /** Which file the static offset came from. */
  staticOffsetFile?: string;
}

export interface GaLoadOptions {
  /** Another subject folder whose held-out sequence drives the cross-identity split. */
  cross?: string;
  /** Check that every image exists (default true). */
  checkFiles?: boolean;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file}: expected a JSON object with "frames"`);
  return v as Record<string, unknown>;
}

/** Width and height from a PNG's header (GaussianAvatars' images are PNG). */
export function pngSize(file: string, where: string): { width: number; height: number } {
  const b = Buffer.alloc(24);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    throw new Error(`${where}: no w/h given and the image ${file} cannot be opened to read its size`);
  }
  try {
    readSync(fd, b, 0, 24, 0);
  } finally {
    closeSync(fd);
  }
  if (b.readUInt32BE(0) !== 0x89504e47) throw new Error(`${where}: no w/h given and ${file} is not a PNG to read the size from`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

interface RawFrame {
  timestep: number;
  cameraIndex: number;
  camera: Camera;
  image: string;
  flameParamPath: string;
}

async function readTransforms(dir: string, fileName: string, checkFiles: boolean): Promise<{ file: string; frames: RawFrame[] }> {
  const file = path.join(dir, fileName);
  const top = await readJson(file);
  const frames = top['frames'];
  if (!Array.isArray(frames)) throw new Error(`${file}: frames: missing (an array of frames)`);
  if (frames.length === 0) throw new Error(`${file}: frames: empty`);
  const out: RawFrame[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i] as Record<string, unknown>;
    const at = (k: string) => `${file}: frames[${i}].${k}`;
    if (!f || typeof f !== 'object') throw new Error(`${file}: frames[${i}]: expected an object`);
    const str = (k: string) => {
      const v = f[k];
      if (typeof v !== 'string' || v.length === 0) throw new Error(`${at(k)}: ${v === undefined ? 'missing' : `expected a path, got ${JSON.stringify(v)}`}`);
      return v;
    };
    const int = (k: string) => {
      const v = f[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
        throw new Error(`${at(k)}: ${v === undefined ? 'missing' : `expected a non-negative integer, got ${JSON.stringify(v)}`}`);
      return v;
    };
    const image = path.resolve(dir, str('file_path'));
    const flameParamPath = path.resolve(dir, str('flame_param_path'));
    const timestep = int('timestep_index');
    // Some files say camera_id: accept both.
    if (f['camera_index'] === undefined && f['camera_id'] === undefined) throw new Error(`${at('camera_index')}: missing (nor camera_id)`);
    const cameraIndex = f['camera_index'] !== undefined ? int('camera_index') : int('camera_id');
    const camera = cameraFromTransforms(f, top, file, i, () => pngSize(image, at('w')));
    if (checkFiles) {
      await fs.access(image).catch(() => {
        throw new Error(`${image}: missing (frames[${i}].file_path in ${file})`);
      });
    }
    out.push({ timestep, cameraIndex, camera, image, flameParamPath });
  }
  return { file, frames: out };
}

type ModelDims = Pick<FlameModel, 'shapeCount' | 'exprCount' | 'vertexCount' | 'baseVertexCount'>;

export async function loadGaSubject(dir: string, model: ModelDims, opts: GaLoadOptions = {}): Promise<GaSubject> {
  const root = path.resolve(dir);
  const checkFiles = opts.checkFiles ?? true;
  const st = await fs.stat(root).catch(() => null);
  if (!st?.isDirectory()) throw new Error(`${dir}: not a subject folder (expected transforms_train.json, transforms_val.json, transforms_test.json inside)`);
  const subject: GaSubject = { dir: root, name: path.basename(root), splits: {}, flame: new Map() };
  const frames: Record<string, GaFlameFrame> = {};
  const readParams = async (p: string) => (frames[p] ??= await readGaFlameFrame(p, model));

  for (const name of ['train', 'val', 'test'] as const) {
    const t = await readTransforms(root, FILES[name], checkFiles);
    const split: GaSplit = { name, file: t.file, frames: [] };
    for (const [i, f] of t.frames.entries()) {
      await readParams(f.flameParamPath).catch((e: Error) => {
        throw new Error(e.message.startsWith(f.flameParamPath) ? `${e.message} (frames[${i}].flame_param_path in ${t.file})` : e.message);
      });
      split.frames.push({
        split: name,
        index: i,
        timestep: f.timestep,
        cameraIndex: f.cameraIndex,
        camera: f.camera,
        image: f.image,
        flameParamPath: f.flameParamPath,
      });
    }
    subject.splits[name] = split;
  }
  const canonical = path.join(root, 'canonical_flame_param.npz');
  const hasCanonical = await fs.access(canonical).then(
    () => true,
    () => false,
  );
  const base = hasCanonical ? await readParams(canonical) : frames[subject.splits.train!.frames[0]!.flameParamPath]!;
  if (base.staticOffset) {
    subject.staticOffset = base.staticOffset;
    subject.staticOffsetFile = hasCanonical ? canonical : subject.splits.train!.frames[0]!.flameParamPath;
  }
  for (const [p, f] of Object.entries(frames)) subject.flame.set(p, f.params);

  if (opts.cross) {
    const other = path.resolve(opts.cross);
    const t = await readTransforms(other, FILES.test, false);
    // One camera per training camera index: the cross sequence is seen by this subject's training rig.
    const cams = new Map<number, Camera>();
    for (const f of subject.splits.train!.frames) if (!cams.has(f.cameraIndex)) cams.set(f.cameraIndex, f.camera);
    const timesteps = new Map<number, string>();
    for (const f of t.frames) if (!timesteps.has(f.timestep)) timesteps.set(f.timestep, f.flameParamPath);
    const split: GaSplit = { name: 'cross', file: t.file, frames: [] };
    const shape = (subject.flame.get(canonical) ?? subject.flame.get(subject.splits.train!.frames[0]!.flameParamPath)!).shape;
    for (const [ts, p] of [...timesteps.entries()].sort((a, b) => a[0] - b[0])) {
      const driver = (await readGaFlameFrame(p, model)).params;
      // The driver's expressions and poses on this subject's identity.
      subject.flame.set(p, { ...driver, shape: Float32Array.from(shape) });
      for (const [ci, camera] of cams)
        split.frames.push({ split: 'cross', index: split.frames.length, timestep: ts, cameraIndex: ci, camera, flameParamPath: p });
    }
    subject.splits.cross = split;
  }
  return subject;
}
