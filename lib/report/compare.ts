/**
 * Methods side by side, as the paper's qualitative figures: unedited | one column per method | GT edit, for
 * the frames every cell's evaluation saved (lib/edit/evaluate.ts: edit/renders/frames/), each row followed by
 * a close-up of the mouth. Built from run directories alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readPng, type RgbImage } from '../util/image.js';
import type { GridRow, GridSpec } from './grid.js';
import { TASK_LABELS } from './paper.js';
import type { FigureFrame } from '../edit/evaluate.js';

type SavedFrame = FigureFrame;

export interface ComparisonOptions {
  subject: string;
  edit: string;
  seed: number;
  /** Methods in column order. */
  methods: string[];
  /** Evaluation split: val (novel view), test (self-reenactment), cross. Default test. */
  split?: string;
  /** Frames (rows); default all saved. */
  rows?: number;
  /** A mouth close-up under each row. Default true. */
  closeUps?: boolean;
}

export interface Comparison {
  spec: GridSpec;
  /** Methods with no saved frames (their column is grey), and why. */
  missing: string[];
}

function framesDir(gridRoot: string, method: string, o: ComparisonOptions): string {
  return path.join(gridRoot, method, o.subject, o.edit, `seed-${o.seed}`, 'edit', 'renders', 'frames');
}

function readIndex(dir: string): SavedFrame[] | null {
  const f = path.join(dir, 'frames.json');
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as SavedFrame[];
  } catch (e) {
    throw new Error(`${f}: ${(e as Error).message}`);
  }
}

export async function methodComparison(gridRoot: string, o: ComparisonOptions): Promise<Comparison> {
  const split = o.split ?? 'test';
  const missing: string[] = [];
  const byMethod = new Map<string, { dir: string; frames: SavedFrame[] }>();
  for (const m of o.methods) {
    const dir = framesDir(gridRoot, m, o);
    const idx = readIndex(dir);
    if (!idx) missing.push(`${m}: no ${path.join(dir, 'frames.json')}`);
    else byMethod.set(m, { dir, frames: idx.filter((f) => f.split === split) });
  }
  const first = [...byMethod.values()][0];
  if (!first) throw new Error(`method comparison: no method has saved frames for ${o.subject}/${o.edit}/seed-${o.seed} in ${gridRoot}`);
  const keyOf = (f: SavedFrame) => `${f.timestep}/${f.camera}`;
  const frames = first.frames.slice(0, o.rows ?? first.frames.length);
  const rows: GridRow[] = [];
  for (const f of frames) {
    const images: (RgbImage | null)[] = [(await readPng(path.join(first.dir, f.files.unedited))).rgb];
    for (const m of o.methods) {
      const got = byMethod.get(m);
      const g = got?.frames.find((x) => keyOf(x) === keyOf(f));
      if (got && !g) missing.push(`${m}: frame t${f.timestep} ${f.camera} not saved`);
      images.push(got && g ? (await readPng(path.join(got.dir, g.files.edited))).rgb : null);
    }
    images.push((await readPng(path.join(first.dir, f.files.gt))).rgb);
    rows.push({ label: `t${f.timestep} ${f.camera}`, images, ...((o.closeUps ?? true) && f.mouthBox ? { crop: f.mouthBox } : {}) });
  }
  return {
    spec: { columns: ['unedited', ...o.methods, 'GT edit'], rows },
    missing,
  };
}

/** The figure's caption line. */
export function comparisonTitle(o: ComparisonOptions): string {
  const task = { val: 'novel-view', test: 'self-reenactment', cross: 'cross-identity' }[o.split ?? 'test'] ?? o.split ?? 'test';
  return `${o.edit}, ${TASK_LABELS[task] ?? task}, ${o.subject}, seed ${o.seed}`;
}
