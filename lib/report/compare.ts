/**
 * Methods side by side, as the paper's qualitative figures: unedited | one column per method | GT edit, for
 * the frames every cell's evaluation saved (lib/edit/evaluate.ts: edit/renders/frames/), each row followed by
 * a close-up of the mouth. Built from run directories alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { downsample, readPng, type RgbImage } from '../util/image.js';
import type { GridRow, GridSpec } from '../image/grid.js';
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
  /** Box-filter every image by this integer factor (notebook displays); close-ups are cut from the result. Default 1. */
  downsample?: number;
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
    throw new Error(`${f}: ${(e as Error).message}`, { cause: e });
  }
}

/** A pixel box of the full-size image as a box of the image downsampled by k, kept inside it. */
export function scaleBox(b: { x: number; y: number; width: number; height: number }, k: number, img: RgbImage) {
  const x = Math.min(Math.floor(b.x / k), img.width - 1),
    y = Math.min(Math.floor(b.y / k), img.height - 1);
  return {
    x,
    y,
    width: Math.max(1, Math.min(Math.ceil((b.x + b.width) / k), img.width) - x),
    height: Math.max(1, Math.min(Math.ceil((b.y + b.height) / k), img.height) - y),
  };
}

/** The seed at which the most of `methods` saved frames for (subject, edit); the lowest on a tie. */
export function comparisonSeed(gridRoot: string, o: { subject: string; edit: string; methods: string[]; seeds: number[] }): number {
  if (!o.seeds.length) throw new Error(`comparisonSeed: no seeds for ${o.subject}/${o.edit}`);
  const counted = [...o.seeds]
    .sort((a, b) => a - b)
    .map((seed) => ({ seed, saved: o.methods.filter((m) => existsSync(path.join(framesDir(gridRoot, m, { ...o, seed }), 'frames.json'))).length }));
  // reduce keeps the earlier (lower) seed unless a later one saved strictly more.
  return counted.reduce((best, c) => (c.saved > best.saved ? c : best)).seed;
}

export async function methodComparison(gridRoot: string, o: ComparisonOptions): Promise<Comparison> {
  const split = o.split ?? 'test';
  const missing: string[] = [];
  const byMethod = new Map<string, { dir: string; frames: SavedFrame[] }>();
  for (const m of o.methods) {
    const dir = framesDir(gridRoot, m, o);
    const idx = readIndex(dir);
    // Relative to the grid: a report must not carry the machine's paths.
    if (!idx) missing.push(`${m}: no ${path.join(path.relative(gridRoot, dir), 'frames.json')}`);
    else byMethod.set(m, { dir, frames: idx.filter((f) => f.split === split) });
  }
  const first = [...byMethod.values()][0];
  if (!first) throw new Error(`method comparison: no method has saved frames for ${o.subject}/${o.edit}/seed-${o.seed} in ${gridRoot}`);
  const keyOf = (f: SavedFrame) => `${f.timestep}/${f.camera}`;
  const frames = first.frames.slice(0, o.rows ?? first.frames.length);
  const k = o.downsample ?? 1;
  const load = async (file: string) => downsample((await readPng(file)).rgb, k);
  const rows: GridRow[] = [];
  for (const f of frames) {
    const images: (RgbImage | null)[] = [await load(path.join(first.dir, f.files.unedited))];
    for (const m of o.methods) {
      const got = byMethod.get(m);
      const g = got?.frames.find((x) => keyOf(x) === keyOf(f));
      if (got && !g) missing.push(`${m}: frame t${f.timestep} ${f.camera} not saved`);
      images.push(got && g ? await load(path.join(got.dir, g.files.edited)) : null);
    }
    images.push(await load(path.join(first.dir, f.files.gt)));
    const crop = (o.closeUps ?? true) && f.mouthBox ? scaleBox(f.mouthBox, k, images[0]!) : undefined;
    rows.push({ label: `t${f.timestep} ${f.camera}`, images, ...(crop ? { crop } : {}) });
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
