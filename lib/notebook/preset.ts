/**
 * Notebook presets: the same notebook runs at `full` size for research (the default) and at `tiny` size in CI
 * (`gae notebooks run` sets GAE_NOTEBOOK_PRESET=tiny). A notebook states its own settings for both with
 * `pick({ tiny, full })`; the dataset every notebook shares is `notebookDataset()`.
 */
import { synthConfig, type SynthConfig } from '../data/writer.js';

export const PRESET_ENV = 'GAE_NOTEBOOK_PRESET';
export const NOTEBOOK_PRESETS = ['tiny', 'full'] as const;
export type NotebookPreset = (typeof NOTEBOOK_PRESETS)[number];

/** The preset named by $GAE_NOTEBOOK_PRESET (default 'full'). */
export function preset(env: Record<string, string | undefined> = process.env): NotebookPreset {
  const v = env[PRESET_ENV];
  if (v === undefined || v === '') return 'full';
  if (!(NOTEBOOK_PRESETS as readonly string[]).includes(v)) throw new Error(`${PRESET_ENV}: expected ${NOTEBOOK_PRESETS.join(' or ')}, got "${v}"`);
  return v as NotebookPreset;
}

/** The value for the current preset: `pick({ tiny: 50, full: 30_000 })`. */
export function pick<T>(values: Record<NotebookPreset, T>, which: NotebookPreset = preset()): T {
  return values[which];
}

export interface NotebookDataset {
  /** Folder, relative to the repository root (the kernel's working directory). */
  dir: string;
  config: SynthConfig;
}

/**
 * The synthetic subject the notebooks share: `alice` (seed 1). Tiny: the `tiny` data preset (6 cameras,
 * 128×88) in data/synthetic/alice-tiny; full: 16 cameras at 802×550, 60 timesteps, in data/synthetic/alice,
 * the folder `gae synth --subject alice --preset full --frames 60` writes.
 */
export function notebookDataset(which: NotebookPreset = preset()): NotebookDataset {
  return which === 'tiny'
    ? { dir: 'data/synthetic/alice-tiny', config: synthConfig('tiny', { subject: 'alice' }) }
    : { dir: 'data/synthetic/alice', config: synthConfig('full', { subject: 'alice', frames: 60 }) };
}

/**
 * An opt-in switch for a costly notebook step that CI must not run (e.g. a whole grid): true only when the
 * variable is set to 1, true, yes or on; any other non-empty value is an error naming it.
 */
export function notebookFlag(name: string, env: Record<string, string | undefined> = process.env): boolean {
  const v = (env[name] ?? '').trim().toLowerCase();
  if (v === '' || ['0', 'false', 'no', 'off'].includes(v)) return false;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  throw new Error(`${name}: expected 1/true/yes/on or 0/false/no/off, got "${env[name]}"`);
}
