/**
 * Finished grid cells from a GPU machine's run directories brought into a committed results folder, trimmed to
 * what `gae report` and the notebooks read, so the repository stays small:
 *
 *   - the grid's grid.json (method order, sweep parameters), and per cell its small files (done.json, cell.json,
 *     per-frame.json, log.txt, …) and its edit run's (metrics.jsonl, adversary.jsonl, done.json, config.json, …;
 *     eval.json only where done.json does not already hold its scores);
 *   - never checkpoints or other folders of the run (they hold the avatar), nor the renders, except:
 *   - the first `frames` saved evaluation frames per chosen split, of the chosen seeds, box-filtered by
 *     `downsample`, with frames.json rewritten to match (mouth boxes scaled), for the side-by-side figures.
 *
 * Grids nested in the source (sweeps/<name>, each with its grid.json) are imported the same way, into the same
 * relative folder. A cell is imported only when its done.json says done; one already present is kept unless
 * `overwrite`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { downsample as boxFilter, encodePng, readPng } from '../util/image.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { FigureFrame } from '../edit/evaluate.js';
import { scaleBox } from './compare.js';

export interface ImportOptions {
  /** Evaluation splits whose saved frames are kept; [] keeps none. Default ['test'] (self-reenactment). */
  splits?: string[];
  /** Saved frames kept per split and cell. Default 3. */
  frames?: number;
  /** Seeds whose cells keep frames; default the lowest seed of each grid. */
  frameSeeds?: number[];
  /** Box-filter factor of the kept frames. Default 2. */
  downsample?: number;
  /** Replace cells already present. Default false. */
  overwrite?: boolean;
  log?: (message: string) => void;
}

export interface ImportSummary {
  imported: string[];
  kept: string[];
  skipped: string[];
  bytes: number;
}

/** Files small enough to commit as they are. */
const SMALL = /\.(json|jsonl|txt|md|csv)$/;

async function cellDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, depth: number): Promise<void> {
    if (depth === 4) {
      if (/^seed-\d+$/.test(path.basename(d))) out.push(d);
      return;
    }
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory() || e.name.startsWith('_') || e.name.startsWith('.') || e.name === 'report') continue;
      const p = path.join(d, e.name);
      if (depth > 0 || !(await fs.stat(path.join(p, 'grid.json')).catch(() => null))) await walk(p, depth + 1);
    }
  }
  await walk(root, 0); // <method>/<subject>/<edit>/seed-<n>
  return out.sort();
}

async function nested(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string, depth: number): Promise<void> => {
    if (depth > 3) return;
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory() || e.name.startsWith('_') || e.name.startsWith('.') || e.name === 'report' || /^seed-\d+$/.test(e.name)) continue;
      const p = path.join(d, e.name);
      if (await fs.stat(path.join(p, 'grid.json')).catch(() => null)) out.push(p);
      else await visit(p, depth + 1);
    }
  };
  await visit(root, 0);
  return out.sort();
}

/**
 * Whether the edit run's eval.json only repeats the scores its done.json holds (a finished run writes both); the
 * copy is then left out, about 150 KB a cell at the full preset.
 */
async function evalDuplicated(run: string): Promise<boolean> {
  const read = (f: string) =>
    fs
      .readFile(path.join(run, f), 'utf8')
      .then((t) => JSON.parse(t) as Record<string, unknown>)
      .catch(() => null);
  const [done, ev] = await Promise.all([read('done.json'), read('eval.json')]);
  return !!done && !!ev && JSON.stringify(done.eval) === JSON.stringify(ev.splits);
}

export async function importCells(from: string, to: string, opts: ImportOptions = {}): Promise<ImportSummary> {
  const say = opts.log ?? (() => {});
  const splits = opts.splits ?? ['test'];
  const keep = opts.frames ?? 3;
  const k = opts.downsample ?? 2;
  if (!Number.isInteger(k) || k < 1) throw new Error(`import: downsample: expected a positive integer, got ${k}`);
  if (!Number.isInteger(keep) || keep < 0) throw new Error(`import: frames: expected a non-negative integer, got ${keep}`);
  if (!(await fs.stat(from).catch(() => null))) throw new Error(`${from}: no such grid directory`);
  const sum: ImportSummary = { imported: [], kept: [], skipped: [], bytes: 0 };
  const write = async (file: string, data: Uint8Array | string) => {
    await writeFileAtomic(file, data);
    sum.bytes += data.length;
  };
  for (const [src, dstRoot] of [[from, to], ...(await nested(from)).map((d) => [d, path.join(to, path.relative(from, d))])] as [string, string][]) {
    const gridJson = await fs.readFile(path.join(src, 'grid.json')).catch(() => null);
    if (gridJson) await write(path.join(dstRoot, 'grid.json'), gridJson);
    const cells = await cellDirs(src);
    const seeds = cells.map((c) => Number(path.basename(c).slice('seed-'.length)));
    const frameSeeds = opts.frameSeeds ?? (seeds.length ? [Math.min(...seeds)] : []);
    for (const cell of cells) {
      const rel = path.relative(from, cell);
      const done = JSON.parse(await fs.readFile(path.join(cell, 'done.json'), 'utf8').catch(() => '{}')) as { status?: string };
      if (done.status !== 'done') {
        sum.skipped.push(rel);
        say(`skip ${rel}: not done`);
        continue;
      }
      const dst = path.join(to, rel);
      if (!opts.overwrite && (await fs.stat(path.join(dst, 'done.json')).catch(() => null))) {
        sum.kept.push(rel);
        continue;
      }
      await fs.rm(dst, { recursive: true, force: true });
      for (const e of await fs.readdir(cell, { withFileTypes: true }))
        if (e.isFile() && SMALL.test(e.name)) await write(path.join(dst, e.name), await fs.readFile(path.join(cell, e.name)));
      const run = path.join(cell, 'edit');
      const dup = await evalDuplicated(run);
      for (const e of await fs.readdir(run, { withFileTypes: true }).catch(() => []))
        if (e.isFile() && SMALL.test(e.name) && !(dup && e.name === 'eval.json'))
          await write(path.join(dst, 'edit', e.name), await fs.readFile(path.join(run, e.name)));
      const framesDir = path.join(run, 'renders', 'frames');
      const index = await fs.readFile(path.join(framesDir, 'frames.json'), 'utf8').catch(() => null);
      const seed = Number(path.basename(cell).slice('seed-'.length));
      if (index && keep > 0 && splits.length && frameSeeds.includes(seed)) {
        const all = JSON.parse(index) as FigureFrame[];
        const chosen = splits.flatMap((s) => all.filter((f) => f.split === s).slice(0, keep));
        const out = path.join(dst, 'edit', 'renders', 'frames');
        const frames: FigureFrame[] = [];
        for (const f of chosen) {
          let size: { width: number; height: number } | null = null;
          for (const file of Object.values(f.files)) {
            const img = boxFilter((await readPng(path.join(framesDir, file))).rgb, k);
            size = img;
            await write(path.join(out, file), encodePng(img));
          }
          frames.push({ ...f, mouthBox: f.mouthBox && size && k > 1 ? scaleBox(f.mouthBox, k, size as Parameters<typeof scaleBox>[2]) : f.mouthBox });
        }
        // The frames are already downsampled: a reader must not scale their mouth boxes again.
        await write(path.join(out, 'frames.json'), JSON.stringify(frames, null, 2) + '\n');
      }
      sum.imported.push(rel);
      say(`imported ${rel}`);
    }
  }
  return sum;
}
