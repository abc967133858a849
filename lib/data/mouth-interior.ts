/**
 * How many pixels of each frame's label map are mouth interior (teeth, tongue: REGION_GROUPS.mouthInterior), cached
 * beside the dataset in `.cache/mouth-interior.json`.
 *
 * Why: the evaluation picks its mouth-open frames from every frame of a split (lib/edit/evaluate.ts), and decoding
 * each label PNG for that cost ~25 ms a frame at 802×550, ~10 s of CPU per edit cell over three splits, the same
 * for every cell of a grid. The counts depend only on the label files, so an entry is reused while its file keeps
 * its size and modification time, and recomputed otherwise; an unreadable cache is rebuilt (it holds nothing that
 * cannot be recomputed). Concurrent cells may each write it: the write is atomic and the content the same.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { REGION_GROUPS } from '../head/regions.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { loadFrameLabels, type DatasetFrame } from './dataset.js';

const VERSION = 1;
export const MOUTH_INTERIOR_CACHE = path.join('.cache', 'mouth-interior.json');

interface Entry {
  bytes: number;
  mtimeMs: number;
  /** Mouth-interior pixels, and all pixels, of the label map. */
  mouth: number;
  pixels: number;
}
interface CacheFile {
  version: number;
  entries: Record<string, Entry>;
}

const MOUTH = new Set<number>(REGION_GROUPS.mouthInterior!);

/** Whether `mouth` mouth-interior pixels of `pixels` make an open mouth: at least `fraction` of them, and some. */
export function mouthOpenFromCount(mouth: number, pixels: number, fraction: number): boolean {
  return mouth >= fraction * pixels && mouth > 0;
}

/** Mouth-interior pixels of a label map, as `isMouthOpen` counts them. */
export function mouthInteriorPixels(labels: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < labels.length; p++) if (MOUTH.has(labels[p]!)) n++;
  return n;
}

async function readCache(file: string): Promise<CacheFile> {
  try {
    const c = JSON.parse(await fs.readFile(file, 'utf8')) as CacheFile;
    if (c.version === VERSION && c.entries && typeof c.entries === 'object') return c;
  } catch {
    // absent or unreadable: rebuilt below
  }
  return { version: VERSION, entries: {} };
}

/**
 * {mouth, pixels} of each frame's label map, in the order of `frames`; `datasetDir` holds the cache (null: no
 * cache, every map decoded).
 */
export async function mouthInteriorCounts(frames: DatasetFrame[], datasetDir: string | null): Promise<{ mouth: number; pixels: number }[]> {
  const file = datasetDir ? path.join(datasetDir, MOUTH_INTERIOR_CACHE) : null;
  const cache = file ? await readCache(file) : { version: VERSION, entries: {} as Record<string, Entry> };
  let changed = false;
  const out: { mouth: number; pixels: number }[] = [];
  for (const f of frames) {
    const key = datasetDir ? path.relative(datasetDir, f.labels) : f.labels;
    const st = await fs.stat(f.labels);
    const hit = cache.entries[key];
    if (hit && hit.bytes === st.size && hit.mtimeMs === st.mtimeMs) {
      out.push({ mouth: hit.mouth, pixels: hit.pixels });
      continue;
    }
    const labels = await loadFrameLabels(f);
    const e = { bytes: st.size, mtimeMs: st.mtimeMs, mouth: mouthInteriorPixels(labels), pixels: labels.length };
    cache.entries[key] = e;
    changed = true;
    out.push({ mouth: e.mouth, pixels: e.pixels });
  }
  if (file && changed) {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeJsonAtomic(file, cache);
  }
  return out;
}
