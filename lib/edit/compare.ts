/**
 * Edited avatars side by side: the same frames rendered from several edit runs (e.g. `ours` and
 * `ours-no-wabe`), each with the blending it was optimised with, between the unedited avatar and the
 * ground-truth edit, with mouth close-ups (where WABE acts: teeth and tongue behind the lips); and the runs'
 * GT-edit scores as table rows.
 */
import type { DatasetFrame, SplitName, SyntheticDataset } from '../data/dataset.js';
import { renderGroundTruth } from '../data/ground-truth.js';
import { mouthBox, mouthOpenness, unionBox } from '../data/views.js';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { AvatarModel } from '../avatar/model.js';
import { frontalCamera } from '../avatar/reenact.js';
import { prepareRasterize } from '../raster/rasterize.js';
import { rasterSettings } from '../raster/types.js';
import type { GridSpec } from '../image/grid.js';
import { AvatarSession } from '../avatar/session.js';
import type { RgbImage } from '../util/image.js';
import type { EditConfig } from './config.js';
import type { EditTaskScores } from './evaluate.js';
import { loadAvatar } from '../avatar/load.js';
import { editedRenderSettings, renderAvatar } from './loop.js';

export interface EditedRun {
  /** Column title, e.g. the method. */
  name: string;
  config: EditConfig;
  /** The edit run directory (its latest checkpoint is the edited avatar) or an avatar .ply. */
  runDir: string;
}

/**
 * The `count` frames of a split with the mouth open widest (jaw rotation + jawOpen weight of the timestep's
 * head), one per timestep, all seen from the split's most frontal camera (where the mouth interior shows).
 */
export function mouthOpenFrames(ds: Pick<SyntheticDataset, 'splits'>, split: SplitName, count: number): DatasetFrame[] {
  const frames = ds.splits[split].frames;
  if (frames.length === 0) throw new Error(`mouthOpenFrames: split ${split} has no frames`);
  const cams = [...new Map(frames.map((f) => [f.cameraIndex, f])).values()];
  const cam = frontalCamera(cams).cameraIndex;
  return frames
    .filter((f) => f.cameraIndex === cam)
    .sort((a, b) => mouthOpenness(b.head) - mouthOpenness(a.head) || a.timestep - b.timestep)
    .slice(0, count)
    .sort((a, b) => a.timestep - b.timestep);
}

export interface ComparisonOptions {
  /** Frames to render; default `mouthOpenFrames(dataset, split, count)`. */
  frames?: DatasetFrame[];
  split?: SplitName;
  /** Default 3. */
  count?: number;
  /** Close-up of the mouth below each row (its box from the GT labels). Default true. */
  mouth?: boolean;
}

/**
 * A grid: unedited | one column per run | GT edit, one row per frame. Every run must edit the same avatar
 * (`config.avatar`) on the same data with the same edit; that is checked.
 */
export async function compareEditedAvatars(runs: EditedRun[], opts: ComparisonOptions = {}): Promise<GridSpec> {
  if (runs.length === 0) throw new Error('compareEditedAvatars: no runs');
  const first = runs[0]!.config;
  for (const r of runs) {
    for (const k of ['data', 'avatar'] as const) {
      if (r.config[k] !== first[k]) throw new Error(`compareEditedAvatars: ${r.name}: config.${k} is "${r.config[k]}", ${runs[0]!.name} has "${first[k]}"`);
    }
    if (r.config.edit.id !== first.edit.id)
      throw new Error(`compareEditedAvatars: ${r.name}: config.edit.id is "${r.config.edit.id}", ${runs[0]!.name} has "${first.edit.id}"`);
  }
  const ctx = await useTfjsWebGpu();
  const session = await AvatarSession.open(first.data, await loadAvatar(first.avatar));
  const models: AvatarModel[] = [];
  try {
    for (const r of runs) models.push(new AvatarModel(await loadAvatar(r.runDir)));
    const plain = rasterSettings({ shDegree: session.avatar.shDegree, background: session.background({ background: null }), blend: 'alpha' });
    await prepareRasterize(plain);
    const settings = runs.map((r) => editedRenderSettings(r.config, plain));
    for (const s of settings) await prepareRasterize(s);
    const frames = opts.frames ?? mouthOpenFrames(session.dataset, opts.split ?? 'test', opts.count ?? 3);
    const rows: GridSpec['rows'] = [];
    for (const f of frames) {
      const pose = session.boundFramesOf(f);
      const images: RgbImage[] = [await renderAvatar(session.avatar, pose, f, plain)];
      for (const [i, m] of models.entries()) images.push(await renderAvatar(m, pose, f, settings[i]!));
      const gt = await renderGroundTruth(ctx, session.dataset, f, first.edit.id);
      images.push(gt.rgb);
      // The GT's mouth box, grown to hold the original's too (an edit may change what is visible).
      const orig = await renderGroundTruth(ctx, session.dataset, f, null);
      const box =
        (opts.mouth ?? true) ? unionBox([mouthBox(gt.labels, f.camera.width, f.camera.height), mouthBox(orig.labels, f.camera.width, f.camera.height)]) : null;
      rows.push({ label: `t${f.timestep} ${f.cameraId}`, images, ...(box ? { crop: box } : {}) });
    }
    return { columns: ['unedited', ...runs.map((r) => r.name), 'GT edit'], rows };
  } finally {
    for (const m of models) m.dispose();
    session.dispose();
  }
}

/** One row per run and task: PSNR/SSIM to the GT edit, per region, on mouth-open frames, and flicker. */
export function editScoreRows(runs: { name: string; eval: EditTaskScores[] }[]): Record<string, string | number | null>[] {
  const out: Record<string, string | number | null>[] = [];
  for (const r of runs) {
    for (const s of r.eval) {
      out.push({
        method: r.name,
        task: s.task,
        frames: s.frames,
        'PSNR (dB)': s.psnr,
        SSIM: s.ssim,
        'PSNR head': s.regions.head?.psnr ?? null,
        'PSNR mouth int.': s.regions.mouthInterior?.psnr ?? null,
        'PSNR lips': s.regions.lips?.psnr ?? null,
        'mouth-open frames': s.mouthOpenFrames,
        'PSNR mouth int. (open)': s.mouthOpen.regions.mouthInterior?.psnr ?? null,
        flicker: s.flicker,
        leakage: s.leakage ?? null,
        'preservation (dB)': s.preservation ?? null,
        'edit strength': s.editStrength ?? null,
      });
    }
  }
  return out;
}
