/**
 * The ablation grid's `edit` runner (lib/experiments): one cell = one method arm editing one subject with
 * one instruction and seed. Cell params (grid ⊕ method ⊕ edit, experiments/*.json):
 *
 *   preset       'tiny' | 'full' (default 'tiny'): the dataset, reconstruction and editing schedules
 *   data         dataset folder (default data/synthetic/<subject>-<preset>, synthesised when absent)
 *   frames       training timesteps of a synthesised dataset (default: the preset's)
 *   reconIterations   iterations of the shared reconstruction (default: the preset's)
 *   reconWabe    reconstruct with WABE (default false): an avatar built for the blending it is edited with,
 *                shared by the cells that ask for it (<grid>/_recon/<subject>-<preset>-wabe)
 *   avatar       reconstruction run directory or .ply (default <grid>/_recon/<subject>-<preset>, trained once
 *                and shared by every cell of the subject)
 *   method       one of METHOD_PRESETS (default: the method's name)
 *   wabe, adversarial, wabeBeta, lambdaAdv   shorthand switches over the method preset
 *   config       any further EditConfig overrides (deep-merged last)
 *
 * The 2D edits are cached in <grid>/_edit-cache, so all arms of a subject, edit and seed see identical
 * edits for identical requests. The edit run lives in <cell>/edit (a RunDir, resumable).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { registerCellRunner, type CellContext, type CellResult } from './registry.js';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { ensureDataset } from '../data/ensure.js';
import { synthConfig, type PresetName } from '../data/writer.js';
import { reconConfig, RECON_PRESETS } from '../train/config.js';
import { runReconstruction } from '../train/recon.js';
import { stableStringify } from '../train/rundir.js';
import { METHOD_PRESETS, mergeConfig, type EditPresetName, type MethodName } from '../edit/config.js';
import { methodConfig, runEdit, cellMetrics } from '../edit/run.js';
import type { EditTaskScores } from '../edit/evaluate.js';
import { PER_FRAME_FILE, type PerFrameFile } from './results.js';
import { writeJsonAtomic } from '../util/atomic.js';

function str(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`cell params: ${name}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** The cell's paths and edit config overrides from its params. */
export function cellPlan(ctx: Pick<CellContext, 'cell' | 'dir'>): {
  preset: EditPresetName;
  data: string;
  avatar: string | null;
  reconDir: string;
  reconWabe: boolean;
  method: MethodName;
  over: Record<string, unknown>;
} {
  const p = ctx.cell.params;
  const preset = (str(p.preset, 'preset') ?? 'tiny') as EditPresetName;
  if (preset !== 'tiny' && preset !== 'full') throw new Error(`cell params: preset: "${preset}" is not tiny or full`);
  const subject = ctx.cell.subject;
  // <outDir>/<grid>/<method>/<subject>/<edit>/seed-N → <outDir>/<grid>
  const gridRoot = path.resolve(ctx.dir, '..', '..', '..', '..');
  const method = (str(p.method, 'method') ?? ctx.cell.method.name) as MethodName;
  if (!(method in METHOD_PRESETS)) throw new Error(`cell params: method: "${method}" is not one of ${Object.keys(METHOD_PRESETS).join(', ')}`);
  const over: Record<string, unknown> = {
    seed: ctx.cell.seed,
    edit: { id: ctx.cell.edit.id, instruction: ctx.cell.edit.instruction ?? null },
    editor: { cacheDir: path.join(gridRoot, '_edit-cache') },
  };
  const wabe: Record<string, unknown> = {};
  const adv: Record<string, unknown> = {};
  if (typeof p.wabe === 'boolean') wabe.enabled = p.wabe;
  if (typeof p.wabeBeta === 'number') wabe.beta = p.wabeBeta;
  if (typeof p.adversarial === 'boolean') adv.enabled = p.adversarial;
  if (typeof p.lambdaAdv === 'number') adv.lambdaAdv = p.lambdaAdv;
  if (Object.keys(wabe).length) over.wabe = wabe;
  if (Object.keys(adv).length) over.adversarial = adv;
  if (p.reconWabe !== undefined && typeof p.reconWabe !== 'boolean')
    throw new Error(`cell params: reconWabe: expected true or false, got ${JSON.stringify(p.reconWabe)}`);
  const reconWabe = p.reconWabe === true;
  if (p.config !== undefined) {
    if (typeof p.config !== 'object' || p.config === null) throw new Error('cell params: config: expected an object of EditConfig overrides');
  }
  return {
    preset,
    data: str(p.data, 'data') ?? path.join('data', 'synthetic', `${subject}-${preset}`),
    avatar: str(p.avatar, 'avatar') ?? null,
    reconDir: path.join(gridRoot, '_recon', `${subject}-${preset}${reconWabe ? '-wabe' : ''}`),
    reconWabe,
    method,
    over: p.config === undefined ? over : mergeConfig(over, p.config),
  };
}

/**
 * The cell's shared prerequisites: its dataset (synthesised when absent) and, unless the cell names an avatar,
 * the subject's reconstruction, shared by every cell of the subject. Returns the avatar to edit.
 */
async function ensurePrerequisites(ctx: Pick<CellContext, 'cell' | 'dir' | 'log' | 'signal'>, plan: ReturnType<typeof cellPlan>): Promise<string> {
  const gpu = await useTfjsWebGpu();
  const frames = ctx.cell.params.frames;
  if (frames !== undefined && !(Number.isInteger(frames) && (frames as number) >= 2))
    throw new Error(`cell params: frames: expected an integer ≥ 2, got ${JSON.stringify(frames)}`);
  const ds = await ensureDataset(
    gpu,
    plan.data,
    synthConfig(plan.preset as PresetName, { subject: ctx.cell.subject, seed: 1, ...(frames ? { frames: frames as number } : {}) }),
  );
  if (ds.created) ctx.log(`synthesised ${plan.data}`);
  if (plan.avatar) return plan.avatar;
  const it = ctx.cell.params.reconIterations;
  const rc = reconConfig({
    ...RECON_PRESETS[plan.preset],
    name: `recon-${ctx.cell.subject}`,
    data: plan.data,
    ...(typeof it === 'number' ? { iterations: it } : {}),
    ...(plan.reconWabe ? { wabe: { enabled: true } } : {}),
  });
  if (await sharedReconstructionDone(plan.reconDir, rc)) return plan.reconDir;
  ctx.log(`reconstructing ${plan.reconDir}`);
  const r = await runReconstruction(rc, { runDir: plan.reconDir, signal: ctx.signal });
  if (r.train.steps < rc.iterations) throw new Error(`${plan.reconDir}: reconstruction stopped at step ${r.train.steps}`);
  return plan.reconDir;
}

/**
 * Whether the shared reconstruction is finished under this config. Read without taking the run's lock: cells
 * started at once (`--parallel`, a Slurm array) all read it, and only its prepare step may write it.
 */
export async function sharedReconstructionDone(dir: string, config: unknown): Promise<boolean> {
  const read = (f: string) => fs.readFile(path.join(dir, f), 'utf8').catch(() => null);
  const [done, cfg] = await Promise.all([read('done.json'), read('config.json')]);
  if (done === null || cfg === null) return false;
  if (stableStringify(JSON.parse(cfg)) !== stableStringify(config))
    throw new Error(`${path.join(dir, 'config.json')}: the shared reconstruction was made with a different config; delete it to rebuild`);
  return true;
}

export async function runEditCell(ctx: CellContext): Promise<CellResult> {
  const plan = cellPlan(ctx);
  const avatar = await ensurePrerequisites(ctx, plan);
  const merged = methodConfig(plan.method, plan.preset, mergeConfig({ data: plan.data, avatar }, plan.over));
  const r = await runEdit(merged, {
    runDir: path.join(ctx.dir, 'edit'),
    signal: ctx.signal,
    log: (m) => ctx.log(m),
    onStep: (s, n) => ctx.progress(s / n),
  });
  if (r.eval.length === 0) throw new Error(`edit stopped at step ${r.edit.steps} of ${merged.iterations}`);
  const wanted = new Set<string>(ctx.cell.tasks);
  const metrics = Object.fromEntries(Object.entries(cellMetrics(r.eval, r.edit)).filter(([t]) => wanted.has(t)));
  // Per-frame scores beside done.json, so that the report can pair arms frame by frame.
  const pf = perFrameFile(r.eval.filter((s) => wanted.has(s.task)));
  await writeJsonAtomic(path.join(ctx.dir, PER_FRAME_FILE), pf);
  const notes = [
    `2D edits: ${r.edit.edits} (${r.edit.cache.hits} from cache); ${r.edit.seconds.toFixed(1)} s editing, of which ${r.edit.editSeconds.toFixed(1)} s rendering for and waiting on the editor`,
  ];
  const clipNote = r.eval.find((e) => e.clipNote)?.clipNote;
  if (clipNote) notes.push(clipNote);
  return { metrics, notes };
}

registerCellRunner('edit', {
  run: runEditCell,
  prepare: async (p) => {
    // cellPlan reads the grid root from a cell directory's depth; any cell directory of the grid will do.
    const dir = path.join(p.gridRoot, p.cell.method.name, p.cell.subject, p.cell.edit.id, `seed-${p.cell.seed}`);
    await ensurePrerequisites({ cell: p.cell, dir, log: p.log, signal: p.signal }, cellPlan({ cell: p.cell, dir }));
  },
  supportsResume: true,
  description: 'GaussianAvatar-Editor editing arm (lib/edit): edit a reconstructed avatar, score it against the GT edit',
});

/** The per-frame scores in the grid's per-frame file format (PER_FRAME_FILE), by task. */
export function perFrameFile(scores: EditTaskScores[]): PerFrameFile {
  const tasks: PerFrameFile['tasks'] = {};
  for (const s of scores) tasks[s.task] = (s.perFrame ?? []).map((f) => ({ frame: f.id, metrics: f.metrics }));
  return { tasks };
}
