/**
 * The ablation grid's `insta-in2n` runner: the paper's NeRF baseline (INSTA + Instruct-NeRF2NeRF) as one arm
 * of the grid. Cell params, as lib/experiments/edit-runner.ts's (preset, data, frames, config) plus:
 *
 *   nerfRecon        NeRF reconstruction run directory (default <grid>/_recon-nerf/<subject>-<preset>,
 *                    trained once and shared by every cell of the subject)
 *   nerfIterations   iterations of that reconstruction (default: the NeRF preset's)
 *   nerfLr           learning rate while editing (default NERF_EDIT_DEFAULTS.lr)
 *
 * The loop's schedule, views, editor and evaluation come from the `ga-in2n` method preset (lib/edit), so the
 * NeRF and Gaussian baselines see the same 2D edits (the same edit cache) under the same schedule.
 */
import * as path from 'node:path';
import { registerCellRunner, type CellContext, type CellResult } from './registry.js';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { ensureDataset } from '../data/ensure.js';
import { synthConfig, type PresetName } from '../data/writer.js';
import { mergeConfig } from '../edit/config.js';
import { methodConfig } from '../edit/run.js';
import { cellPlan } from './edit-runner.js';
import { nerfReconConfig } from '../nerf/config.js';
import { runNerfReconstruction } from '../nerf/recon.js';
import { NERF_EDIT_DEFAULTS, editNerf, editRunDir, nerfCellMetrics } from '../nerf/edit.js';

export const NERF_METHOD = 'insta-in2n';

export async function runNerfCell(ctx: CellContext): Promise<CellResult> {
  const p = ctx.cell.params;
  // lib/edit's plan, with the Gaussian baseline's loop settings (the method name itself is not a lib/edit preset).
  const plan = cellPlan({ ...ctx, cell: { ...ctx.cell, params: { ...p, method: 'ga-in2n' } } });
  const gpu = await useTfjsWebGpu();
  const frames = p.frames;
  if (frames !== undefined && !(Number.isInteger(frames) && (frames as number) >= 2))
    throw new Error(`cell params: frames: expected an integer ≥ 2, got ${JSON.stringify(frames)}`);
  const ds = await ensureDataset(
    gpu,
    plan.data,
    synthConfig(plan.preset as PresetName, { subject: ctx.cell.subject, seed: 1, ...(frames ? { frames: frames as number } : {}) }),
  );
  if (ds.created) ctx.log(`synthesised ${plan.data}`);
  const gridRoot = path.resolve(ctx.dir, '..', '..', '..', '..');
  const reconDir = typeof p.nerfRecon === 'string' ? p.nerfRecon : path.join(gridRoot, '_recon-nerf', `${ctx.cell.subject}-${plan.preset}`);
  if (typeof p.nerfRecon !== 'string') {
    const it = p.nerfIterations;
    if (it !== undefined && !(Number.isInteger(it) && (it as number) > 0))
      throw new Error(`cell params: nerfIterations: expected a positive integer, got ${JSON.stringify(it)}`);
    const rc = nerfReconConfig(plan.preset, {
      data: plan.data,
      ...(typeof it === 'number' ? { train: { iterations: it } } : {}),
      evaluation: { splits: ['val'], framesPerSplit: 2 },
    });
    ctx.log(`reconstructing the NeRF avatar in ${reconDir}`);
    await runNerfReconstruction(rc, { runDir: reconDir, log: (m) => ctx.log(m) });
  }
  const lr = p.nerfLr === undefined ? NERF_EDIT_DEFAULTS.lr : p.nerfLr;
  if (typeof lr !== 'number' || !(lr > 0)) throw new Error(`cell params: nerfLr: expected a positive number, got ${JSON.stringify(p.nerfLr)}`);
  const config = methodConfig('ga-in2n', plan.preset, mergeConfig({ data: plan.data, avatar: reconDir }, plan.over, { name: NERF_METHOD }));
  const r = await editNerf(config, { lr }, { runDir: editRunDir(ctx.dir), signal: ctx.signal, log: (m) => ctx.log(m), onStep: (s, n) => ctx.progress(s / n) });
  const wanted = new Set<string>(ctx.cell.tasks);
  const metrics = Object.fromEntries(Object.entries(nerfCellMetrics(r.eval, r.edit)).filter(([t]) => wanted.has(t)));
  return {
    metrics,
    notes: [
      `2D edits: ${r.edit.edits}; ${r.edit.seconds.toFixed(1)} s editing, of which ${r.edit.editSeconds.toFixed(1)} s rendering for and waiting on the editor`,
      'NeRF arm: L1 ray loss (no D-SSIM on random rays); CLIP and flicker not computed (null)',
    ],
  };
}

registerCellRunner(NERF_METHOD, {
  run: runNerfCell,
  supportsResume: false,
  description: "INSTA-style NeRF avatar + Instruct-NeRF2NeRF (lib/nerf): the paper's NeRF baseline",
});
