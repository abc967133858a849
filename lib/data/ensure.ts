/**
 * A dataset that may already be on disk: loaded if its folder holds the same configuration, rendered
 * (atomically) if the folder is absent. A folder with a different configuration is an error, never replaced.
 */
import { cameraRig } from './cameras.js';
import * as path from 'node:path';
import type { GpuContext } from '../gpu/device.js';
import { exists } from '../util/atomic.js';
import { loadDataset, type SyntheticDataset } from './dataset.js';
import { writeDataset, type SynthConfig, type WriteOptions } from './writer.js';

/** The fields of `cfg` that differ from the dataset's dataset.json, as "field: on disk ≠ wanted". */
export function configMismatches(ds: SyntheticDataset, cfg: SynthConfig): string[] {
  const m = ds.meta;
  const cams = m.cameras;
  const heldOut = cams.filter((c) => c.held_out).map((c) => c.camera_index);
  const have: Record<string, unknown> = {
    subject: m.subject,
    preset: m.preset,
    seed: m.seed,
    frames: m.sequences.train.timesteps,
    testFrames: m.sequences.heldout.timesteps,
    crossFrames: m.sequences.cross.timesteps,
    width: cams[0]!.w,
    height: cams[0]!.h,
    cameras: cams.length,
    heldOut: heldOut.join(','),
    tileSize: m.texture_tile_size,
    supersample: m.render.supersample,
    background: m.render.background.join(','),
  };
  const want: Record<string, unknown> = { ...cfg, heldOut: cfg.heldOut.join(','), background: cfg.background.join(',') };
  const out = Object.keys(have)
    .filter((k) => have[k] !== want[k])
    .map((k) => `${k}: ${String(have[k])} on disk, ${String(want[k])} wanted`);
  // A dataset rendered by an older rig (another framing) has the same config fields but other cameras.
  if (cams.length === cfg.cameras && cams[0]!.w === cfg.width && cams[0]!.h === cfg.height) {
    const rig = cameraRig({ count: cfg.cameras, width: cfg.width, height: cfg.height, heldOut: cfg.heldOut, seed: cfg.seed });
    const f = cams[0]!.fx, g = rig[0]!.camera.fx;
    if (Math.abs(f - g) > 1e-3 * g) out.push(`rig: focal length ${f.toFixed(1)} px on disk, ${g.toFixed(1)} wanted (rendered by an older rig; remove the folder to re-render)`);
  }
  return out;
}

/** Loads `dir` if it holds `cfg`'s dataset; renders it there first if the folder does not exist. */
export async function ensureDataset(ctx: GpuContext, dir: string, cfg: SynthConfig, opts: Pick<WriteOptions, 'onProgress'> = {}): Promise<SyntheticDataset & { created: boolean }> {
  let created = false;
  if (!(await exists(path.join(dir, 'dataset.json')))) {
    if (await exists(dir)) throw new Error(`${dir}: exists but has no dataset.json (not a synthetic dataset; remove it to render one here)`);
    await writeDataset(ctx, dir, cfg, opts);
    created = true;
  }
  const ds = await loadDataset(dir);
  const diff = configMismatches(ds, cfg);
  if (diff.length > 0) throw new Error(`${path.join(dir, 'dataset.json')}: a different dataset is already here (${diff.join('; ')}); remove the folder or choose another`);
  return { ...ds, created };
}
