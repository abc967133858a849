/**
 * The reconstruction the notebooks share: 02-reconstruct trains it, 03-edit edits it. Both take config and
 * run directory from here, so 03 finds 02's finished run (a run directory refuses a different config) and,
 * run on its own, trains the same avatar first. Not re-exported from ./index.ts: it loads the trainer (tfjs).
 */
import { reconConfig, RECON_PRESETS, type ReconConfig } from '../train/config.js';
import { mergeConfig } from '../util/config.js';
import { notebookDataset, pick, preset, type NotebookPreset } from './preset.js';

export interface NotebookReconstruction {
  config: ReconConfig;
  /** Relative to the repository root (git-ignored: results/runs/). */
  runDir: string;
}

/** Tiny: 60 steps (about a minute or two on lavapipe); full: the experiments' schedule (RECON_PRESETS.full). */
export function notebookReconstruction(which: NotebookPreset = preset()): NotebookReconstruction {
  const data = notebookDataset(which);
  const schedule = pick(
    { tiny: mergeConfig(RECON_PRESETS.tiny, { iterations: 60, log: { every: 10 }, checkpoint: { every: 30, keep: 2 } }), full: RECON_PRESETS.full },
    which,
  );
  return {
    config: reconConfig(mergeConfig(schedule, { name: `notebook-${which}`, data: data.dir }) as Parameters<typeof reconConfig>[0]),
    runDir: `results/runs/notebooks/02-reconstruct-${which}`,
  };
}
