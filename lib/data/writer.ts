/**
 * Writes a synthetic subject folder (layout in dataset.ts) into a temporary sibling and renames it into
 * place at the end (lib/util/atomic.ts `buildDirAtomic`), so a failed or interrupted run leaves nothing.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { GpuContext } from '../gpu/device.js';
import { loadHeadModel } from '../head/model.js';
import { DEFAULT_SHADING } from '../head/render.js';
import { EDITS, ORIGINAL_CAPTION } from '../head/edits.js';
import { buildDirAtomic, exists, writeFileAtomic } from '../util/atomic.js';
import { type RgbImage } from '../util/image.js';
import { encodePng8, encodePng8Sync, toBytes } from '../util/png.js';
import { lowbias32 } from '../util/random.js';
import { cameraRig, type RigCamera } from './cameras.js';
import { EXPRESSION_NAMES, makeSequence, sampleIdentity, framesPerKey, type Sequence } from './sequences.js';
import {
  DATASET_FORMAT,
  DATASET_VERSION,
  SPLITS,
  SPLIT_DEFINITION,
  headToJson,
  stringifyCompact,
  type DatasetJson,
  type FrameJson,
  type SequenceName,
  type TransformsJson,
} from './dataset.js';
import { poseFrames, renderPosed, renderSettingsOf, subjectTexture } from './ground-truth.js';

export interface SynthConfig {
  subject: string;
  preset: string;
  seed: number;
  frames: number; // training timesteps
  testFrames: number; // held-out sequence timesteps (self-reenactment)
  crossFrames: number; // cross-identity driving timesteps
  width: number;
  height: number;
  cameras: number;
  heldOut: number[]; // camera indices for the val split
  tileSize: number; // texture atlas tile (the atlas is 4S × 3S)
  supersample: number;
  background: [number, number, number];
}

export type PresetName = 'tiny' | 'full';

export const PRESETS: Record<PresetName, Omit<SynthConfig, 'subject' | 'seed'>> = {
  tiny: { preset: 'tiny', frames: 4, testFrames: 2, crossFrames: 2, width: 128, height: 88, cameras: 6, heldOut: [2], tileSize: 128, supersample: 2, background: [1, 1, 1] },
  full: { preset: 'full', frames: 60, testFrames: 30, crossFrames: 30, width: 802, height: 550, cameras: 16, heldOut: [3, 8, 12], tileSize: 512, supersample: 2, background: [1, 1, 1] },
};

export function synthConfig(preset: PresetName, over: Partial<SynthConfig> & { subject: string }): SynthConfig {
  const base = PRESETS[preset];
  if (!base) throw new Error(`unknown preset "${preset}" (tiny, full)`);
  const frames = over.frames ?? base.frames;
  const half = Math.max(2, Math.ceil(frames / 2));
  return {
    ...base,
    seed: 1,
    testFrames: over.frames !== undefined ? half : base.testFrames,
    crossFrames: over.frames !== undefined ? half : base.crossFrames,
    ...over,
  };
}

export interface WriteOptions {
  /** Replace an existing folder (otherwise it is an error). */
  replace?: boolean;
  /** Called after each rendered frame (and once with done = 0 before the first). */
  onProgress?: (done: number, total: number, what: string) => void;
}

const derive = (seed: number, salt: number) => lowbias32((seed * 0x9e3779b1) ^ salt) & 0x7fffffff;

function checkConfig(c: SynthConfig): void {
  const bad = (f: string, why: string) => {
    throw new Error(`synthetic dataset config: ${f}: ${why}`);
  };
  if (!/^[A-Za-z0-9_.-]+$/.test(c.subject)) bad('subject', `"${c.subject}" must be a plain name (letters, digits, _ . -)`);
  for (const k of ['frames', 'testFrames', 'crossFrames', 'width', 'height', 'cameras', 'tileSize', 'supersample'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) bad(k, `must be a positive integer, got ${c[k]}`);
  }
  if (c.width > 4096 || c.height > 4096) bad('width/height', 'at most 4096');
  if (c.heldOut.length === 0) bad('heldOut', 'needs at least one held-out camera for the val split');
}

/** Writes the dataset described by `cfg` into `outDir` (atomically). */
export async function writeDataset(ctx: GpuContext, outDir: string, cfg: SynthConfig, opts: WriteOptions = {}): Promise<void> {
  checkConfig(cfg);
  if (!opts.replace && (await exists(outDir))) throw new Error(`${outDir}: already exists (pass replace / --force to overwrite)`);
  const model = await loadHeadModel();
  if (model.expressionNames.join() !== EXPRESSION_NAMES.join()) throw new Error(`${model.dir}/model.json: expressions: order differs from lib/data/sequences.ts`);

  const identity = sampleIdentity(cfg.seed);
  const textureSeed = derive(cfg.seed, 0x7e77);
  const seqSeeds = { train: derive(cfg.seed, 0x5e01), heldout: derive(cfg.seed, 0x5e02), cross: derive(cfg.seed, 0x5e03) };
  const driverSeed = derive(cfg.seed, 0xd71e);
  const driverIdentity = sampleIdentity(driverSeed);
  const sequences: Record<SequenceName, Sequence> = {
    train: makeSequence({ frames: cfg.frames, seed: seqSeeds.train, identity, kind: 'train' }),
    heldout: makeSequence({ frames: cfg.testFrames, seed: seqSeeds.heldout, identity, kind: 'heldout' }),
    // The driver's performance, transferred to this subject: expressions and poses are identity-free.
    cross: makeSequence({ frames: cfg.crossFrames, seed: seqSeeds.cross, identity, kind: 'cross' }),
  };
  const rig = cameraRig({ count: cfg.cameras, width: cfg.width, height: cfg.height, heldOut: cfg.heldOut, seed: cfg.seed });
  const camerasOf = (which: 'training' | 'held-out') => rig.filter((c) => c.heldOut === (which === 'held-out'));
  const settings = {
    supersample: cfg.supersample,
    background: cfg.background,
    shading: { ambient: DEFAULT_SHADING.ambient, diffuse: DEFAULT_SHADING.diffuse, light_dir: [...DEFAULT_SHADING.lightDir], occlusion: DEFAULT_SHADING.occlusion },
  };
  const edits = EDITS.map((e) => ({ id: e.id, prompt: e.prompt, caption: e.caption, regions: [...e.regions] }));
  const spt = (n: number) => 0.6 / framesPerKey(n);
  const meta: DatasetJson = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    subject: cfg.subject,
    preset: cfg.preset,
    seed: cfg.seed,
    identity: Array.from(identity),
    texture_seed: textureSeed,
    texture_tile_size: cfg.tileSize,
    render: settings,
    head_model: { name: 'ICT-FaceKit (USC ICT)', license: 'MIT', vertex_count: model.vertexCount, triangle_count: model.triangleCount },
    world: { units: 'metres', axes: 'ICT-FaceKit model frame: x to the subject\'s left, y up, z out of the face' },
    cameras: rig.map((c) => ({
      camera_index: c.index,
      camera_id: c.id,
      held_out: c.heldOut,
      azimuth_deg: c.azimuthDeg,
      elevation_deg: c.elevationDeg,
      ...cameraFields(c),
    })),
    sequences: {
      train: { seed: seqSeeds.train, timesteps: cfg.frames, seconds_per_timestep: spt(cfg.frames) },
      heldout: { seed: seqSeeds.heldout, timesteps: cfg.testFrames, seconds_per_timestep: spt(cfg.testFrames) },
      cross: { seed: seqSeeds.cross, timesteps: cfg.crossFrames, seconds_per_timestep: spt(cfg.crossFrames), driver_identity: Array.from(driverIdentity) },
    },
    splits: Object.fromEntries(
      SPLITS.map((s) => [
        s,
        { file: `transforms_${s}.json`, sequence: SPLIT_DEFINITION[s].sequence, cameras: camerasOf(SPLIT_DEFINITION[s].cameras).map((c) => c.index), description: SPLIT_DEFINITION[s].description },
      ]),
    ) as DatasetJson['splits'],
    edits,
    original_caption: ORIGINAL_CAPTION,
  };

  const total = SPLITS.reduce((n, s) => n + sequences[SPLIT_DEFINITION[s].sequence].params.length * camerasOf(SPLIT_DEFINITION[s].cameras).length, 0);
  opts.onProgress?.(0, total, 'texture');
  const tex = subjectTexture(model, textureSeed, cfg.tileSize, null);
  const rs = renderSettingsOf(meta);

  await buildDirAtomic(
    outDir,
    async (tmp) => {
      let done = 0;
      const posed = new Map<SequenceName, Float32Array[]>();
      const writes: Promise<void>[] = [];
      for (const split of SPLITS) {
        const def = SPLIT_DEFINITION[split];
        const seq = sequences[def.sequence];
        if (!posed.has(def.sequence)) posed.set(def.sequence, await poseFrames(ctx, model, seq.params));
        const verts = posed.get(def.sequence)!;
        const frames: FrameJson[] = [];
        for (const sub of ['images', 'fg_masks', 'labels']) await fs.mkdir(path.join(tmp, sub, def.sequence), { recursive: true });
        for (let t = 0; t < seq.params.length; t++) {
          for (const cam of camerasOf(def.cameras)) {
            const name = `${def.sequence}/t${String(t).padStart(4, '0')}_c${String(cam.index).padStart(2, '0')}.png`;
            const out = await renderPosed(ctx, verts[t]!, cam.camera, tex, rs);
            // The GPU renders the next frame while this one compresses on the thread pool.
            const { width: w, height: h } = cfg;
            writes.push(
              Promise.all([
                encodePng8(w, h, 3, toBytes(out.rgb.data)).then((b) => fs.writeFile(path.join(tmp, 'images', name), b)),
                encodePng8(w, h, 1, toBytes(out.alpha)).then((b) => fs.writeFile(path.join(tmp, 'fg_masks', name), b)),
                encodePng8(w, h, 1, Uint8Array.from(out.labels)).then((b) => fs.writeFile(path.join(tmp, 'labels', name), b)),
              ]).then(() => undefined),
            );
            if (writes.length >= MAX_PENDING_WRITES) await writes.shift();
            frames.push({
              file_path: `images/${name}`,
              fg_mask_path: `fg_masks/${name}`,
              label_path: `labels/${name}`,
              timestep_index: t,
              camera_index: cam.index,
              camera_id: cam.id,
              ...cameraFields(cam),
              head: headToJson(seq.params[t]!),
            });
            opts.onProgress?.(++done, total, `${split} ${name}`);
          }
        }
        await Promise.all(writes.splice(0));
        const tj: TransformsJson = {
          split,
          sequence: def.sequence,
          subject: cfg.subject,
          identity: Array.from(identity),
          ...(def.sequence === 'cross' ? { driver_identity: Array.from(driverIdentity) } : {}),
          texture_seed: textureSeed,
          background: [...cfg.background],
          edits,
          timesteps: seq.params.map((p, i) => ({ timestep_index: i, time: seq.times[i]!, category: seq.categories[i]!, head: headToJson(p) })),
          frames,
        };
        await writeFileAtomic(path.join(tmp, `transforms_${split}.json`), stringifyCompact(tj) + '\n');
      }
      await writeFileAtomic(path.join(tmp, 'dataset.json'), stringifyCompact(meta) + '\n');
    },
    opts.replace ?? false,
  ).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOTEMPTY' || e.code === 'EEXIST') throw new Error(`${outDir}: already exists (pass replace / --force to overwrite)`);
    throw e;
  });
}

function cameraFields(c: RigCamera): Pick<FrameJson, 'fx' | 'fy' | 'cx' | 'cy' | 'w' | 'h' | 'world_to_camera' | 'near' | 'far'> {
  const k = c.camera;
  return { fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy, w: k.width, h: k.height, world_to_camera: Array.from(k.worldToCamera), near: k.near, far: k.far };
}

/** Frames whose PNGs may be compressing at once (three files each) before the renderer waits. */
const MAX_PENDING_WRITES = 32;

/** 8-bit RGB PNG (no alpha channel: the mask is its own file). */
export function encodeRgbPng(img: RgbImage): Buffer {
  return encodePng8Sync(img.width, img.height, 3, toBytes(img.data));
}

