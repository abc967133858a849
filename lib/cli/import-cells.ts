/**
 * Brings finished grid cells from a GPU machine's run directories (results/runs/<grid>/…, unpacked from the
 * tars a `device` call returns) into a committed results folder, trimmed to what the report and the notebooks
 * read, to keep the repository small (the device tool sends the whole working tree, 64 MiB at most):
 *
 *   - every JSON/JSONL/log of the cell and of its edit run, except checkpoints (they hold the avatar);
 *   - renders/edit-test.png downsampled by 2 (the per-cell overview; edit-val/edit-cross are dropped);
 *   - the saved evaluation frames of the chosen splits (default: test, the self-reenactment frames the
 *     side-by-side figure leads with) at full resolution, with frames.json filtered to match.
 *
 *   gae import-cells <from grid dir> <to grid dir> [--splits test,cross] [--overwrite]
 *
 * A cell is imported only when its done.json says done; one already present is kept unless --overwrite.
 */
import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { downsample, encodePng, readPng } from '../util/image.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { FigureFrame } from '../edit/evaluate.js';

const program = new Command()
  .name('import-cells')
  .argument('<from>', 'grid directory on this machine (unpacked from the GPU machine)')
  .argument('<to>', 'committed grid directory, e.g. results/table1')
  .option('--splits <list>', 'evaluation splits whose saved frames are kept (comma-separated; "none" keeps none)', 'test')
  .option('--overwrite', 'replace cells already present', false)
  .parse();
const [from, to] = program.args as [string, string];
const opts = program.opts<{ splits: string; overwrite: boolean }>();
const splits = opts.splits.split(',');

async function cellDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, depth: number): Promise<void> {
    if (depth === 4) {
      if (/^seed-\d+$/.test(path.basename(d))) out.push(d);
      return;
    }
    for (const e of await fs.readdir(d, { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith('_')) await walk(path.join(d, e.name), depth + 1);
  }
  await walk(root, 0); // <method>/<subject>/<edit>/seed-<n>
  return out.sort();
}

const small = (f: string) => /\.(json|jsonl|txt|md|csv)$/.test(f);
let imported = 0, kept = 0, bytes = 0;
for (const src of await cellDirs(from)) {
  const rel = path.relative(from, src);
  const done = JSON.parse(await fs.readFile(path.join(src, 'done.json'), 'utf8').catch(() => '{}')) as { status?: string };
  if (done.status !== 'done') {
    console.log(`skip ${rel}: not done`);
    continue;
  }
  const dst = path.join(to, rel);
  if (!opts.overwrite && (await fs.stat(path.join(dst, 'done.json')).catch(() => null))) {
    kept++;
    continue;
  }
  await fs.rm(dst, { recursive: true, force: true });
  const write = async (relFile: string, data: Uint8Array | string) => {
    await writeFileAtomic(path.join(dst, relFile), data);
    bytes += data.length;
  };
  for (const f of ['log.txt', 'cell.json', 'done.json']) {
    const b = await fs.readFile(path.join(src, f)).catch(() => null);
    if (b) await write(f, b);
  }
  const run = path.join(src, 'edit');
  for (const e of await fs.readdir(run).catch(() => [] as string[])) {
    if (small(e)) await write(path.join('edit', e), await fs.readFile(path.join(run, e)));
  }
  const overview = path.join(run, 'renders', 'edit-test.png');
  if (await fs.stat(overview).catch(() => null)) await write(path.join('edit', 'renders', 'edit-test.png'), encodePng(downsample((await readPng(overview)).rgb, 2)));
  const framesDir = path.join(run, 'renders', 'frames');
  const index = await fs.readFile(path.join(framesDir, 'frames.json'), 'utf8').catch(() => null);
  if (index) {
    const frames = (JSON.parse(index) as FigureFrame[]).filter((f) => splits.includes(f.split));
    const out = path.join('edit', 'renders', 'frames');
    for (const f of frames) {
      // Re-encoded (8-bit RGB, lossless from the 8-bit source) rather than copied: smaller files.
      for (const file of Object.values(f.files)) await write(path.join(out, file), encodePng((await readPng(path.join(framesDir, file))).rgb));
    }
    await write(path.join(out, 'frames.json'), JSON.stringify(frames, null, 2) + '\n');
  }
  imported++;
  console.log(`imported ${rel}`);
}
console.log(`${imported} cells imported, ${kept} kept (already present), ${(bytes / 1e6).toFixed(1)} MB written`);
