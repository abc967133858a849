/**
 * One (method, subject, edit, seed) cell end to end: edit the reconstructed avatar (resumable), then score
 * it against the ground-truth edit on the three tasks, writing `eval.json`, figures and `done.json` into
 * the run directory. A finished run is not recomputed.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../data/dataset.js';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { AvatarModel } from '../avatar/model.js';
import { AvatarSession } from '../avatar/session.js';
import { RunDir } from '../train/rundir.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { Embedder } from '../metrics/clip.js';
import { metricNames, REPORT_REGIONS } from '../metrics/names.js';
import { rasterSettings, type RasterSettings } from '../raster/types.js';
import { wabeBlend } from '../raster/wabe-config.js';
import { loadAvatar } from '../avatar/load.js';
import { editAvatar, editedRenderSettings, type EditOptions, type EditSummary } from './loop.js';
import { evaluateEdit, type EditTaskScores } from './evaluate.js';
import { editConfig, mergeConfig, EDIT_PRESETS, METHOD_PRESETS, type EditConfig, type EditPresetName, type MethodName } from './config.js';

export interface EditRunResult {
  edit: EditSummary;
  eval: EditTaskScores[];
}

/** A method's config: preset schedule ⊕ method switches ⊕ the caller's overrides. */
export function methodConfig(method: MethodName, preset: EditPresetName, over: Record<string, unknown>, where = `${method} (${preset})`): EditConfig {
  if (!(preset in EDIT_PRESETS)) throw new Error(`unknown preset "${preset}" (known: ${Object.keys(EDIT_PRESETS).join(', ')})`);
  if (!(method in METHOD_PRESETS)) throw new Error(`unknown method "${method}" (known: ${Object.keys(METHOD_PRESETS).join(', ')})`);
  return editConfig(mergeConfig(EDIT_PRESETS[preset], METHOD_PRESETS[method], { name: method }, over), where);
}

/**
 * Checks everything an edit run reads before its run directory is created: the dataset (every image's size
 * against its camera), the edit id among the dataset's edits, and the avatar. A failure here leaves nothing
 * behind, so the corrected command can reuse the directory.
 */
export async function checkEditInputs(config: EditConfig): Promise<void> {
  const ds = await loadDataset(config.data);
  const ids = ds.meta.edits.map((e) => e.id);
  if (!ids.includes(config.edit.id)) {
    throw new Error(`${path.join(ds.dir, 'dataset.json')}: edits: no edit "${config.edit.id}" (known: ${ids.join(', ')})`);
  }
  await loadAvatar(config.avatar);
}

/** What runEdit takes beyond the loop's options: the CLIP embedder and evaluation progress. */
export type EditRunOptions = EditOptions & { embedder?: Embedder | null; onEvalFrame?: (done: number, total: number) => void };

export async function runEdit(config: EditConfig, opts: EditRunOptions): Promise<EditRunResult> {
  await checkEditInputs(config);
  const run = await RunDir.open(opts.runDir, config, {}, opts.log);
  try {
    return await editIn(run, config, opts);
  } finally {
    await run.close();
  }
}

async function editIn(run: RunDir, config: EditConfig, opts: EditRunOptions): Promise<EditRunResult> {
  if (await run.isDone()) {
    const done = JSON.parse(await fs.readFile(run.file('done.json'), 'utf8')) as EditRunResult;
    return { edit: done.edit, eval: done.eval };
  }
  const edit = await editAvatar(config, opts);
  if (edit.steps < config.iterations) return { edit, eval: [] };
  const ctx = await useTfjsWebGpu();
  const session = await AvatarSession.open(config.data, await loadAvatar(opts.runDir));
  const original = new AvatarModel(await loadAvatar(config.avatar));
  try {
    const scores = await evaluateEdit(ctx, session, {
      editId: config.edit.id,
      splits: config.eval.splits,
      framesPerSplit: config.eval.framesPerSplit,
      mouthOpenFrames: config.eval.mouthOpenFrames,
      sampleSeed: config.eval.sampleSeed,
      flickerFrames: config.eval.flickerFrames,
      mouthOpenFraction: config.eval.mouthOpenFraction,
      original,
      blend: editedRenderSettings(config, rasterSettings()),
      ...(await reconstructedBlend(config.avatar)),
      embedder: opts.embedder ?? null,
      figureDir: run.file('renders'),
      ...(opts.onEvalFrame ? { onFrame: opts.onEvalFrame } : {}),
    });
    await writeJsonAtomic(run.file('eval.json'), { edit: config.edit.id, splits: scores });
    await run.markDone({ edit, eval: scores });
    return { edit, eval: scores };
  } finally {
    original.dispose();
    session.dispose();
  }
}

/**
 * The blending the avatar was reconstructed with, from its run directory's config.json (WABE when that run had
 * `wabe.enabled`); nothing for alpha blending or an avatar given as a bare .ply (assumed alpha-blended).
 */
export async function reconstructedBlend(avatar: string): Promise<{ originalBlend?: Pick<RasterSettings, 'blend' | 'wabe'> }> {
  const file = path.join(avatar, 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return {}; // a .ply, or a folder without a run config
  }
  let cfg: { wabe?: { enabled?: boolean; beta: number; stopGradient: boolean; renormalize: boolean } };
  try {
    cfg = JSON.parse(text) as typeof cfg;
  } catch (e) {
    throw new Error(`${file}: cannot read the reconstruction's config (${(e as Error).message})`, { cause: e });
  }
  return cfg.wabe?.enabled ? { originalBlend: wabeBlend({ ...cfg.wabe, enabled: true }) } : {};
}

/** Flattens task scores into the metric table the ablation runner collects (task → metric → value; names.ts). */
export function cellMetrics(scores: EditTaskScores[], edit: EditSummary): Record<string, Record<string, number | null>> {
  const fin = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? null : x);
  const out: Record<string, Record<string, number | null>> = {};
  for (const s of scores) {
    const m: Record<string, number | null> = {
      [metricNames.psnr('image')]: fin(s.psnr),
      [metricNames.ssim('image')]: fin(s.ssim),
      [metricNames.flicker('head')]: fin(s.flicker),
      [metricNames.leakage()]: fin(s.leakage),
      [metricNames.preservation]: fin(s.preservation),
      [metricNames.editStrength]: fin(s.editStrength),
      [metricNames.clipS]: fin(s.clipS),
      [metricNames.clipC]: fin(s.clipC),
      [metricNames.editSeconds]: fin(edit.seconds),
    };
    for (const r of REPORT_REGIONS) {
      m[metricNames.psnr(r)] = fin(s.regions[r]?.psnr);
      m[metricNames.ssim(r)] = fin(s.regions[r]?.ssim);
      m[metricNames.psnrOpen(r)] = fin(s.mouthOpen.regions[r]?.psnr);
    }
    for (const [r, v] of Object.entries(s.leakageRegions ?? {})) m[metricNames.leakage(r)] = fin(v);
    out[s.task] = m;
  }
  return out;
}
