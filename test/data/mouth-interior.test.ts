/** The mouth-interior counts the evaluation picks mouth-open frames with: decoded, cached, and invalidated. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MOUTH_INTERIOR_CACHE, mouthInteriorCounts } from '../../lib/data/mouth-interior.js';
import { evaluationFrames, isMouthOpen } from '../../lib/edit/evaluate.js';
import { Region } from '../../lib/head/regions.js';
import { writeGrayPng } from '../../lib/util/image.js';
import type { DatasetFrame } from '../../lib/data/dataset.js';

const W = 24;
const H = 16;
let root = '';
let frames: DatasetFrame[] = [];
/** Teeth + tongue pixels written into frame i. */
const mouthOf = (i: number) => (i * 7) % 40;

async function writeLabels(file: string, mouth: number): Promise<void> {
  const data = new Float32Array(W * H).fill(Region.skin);
  for (let p = 0; p < mouth; p++) data[p * 3] = p % 2 ? Region.teeth : Region.tongue;
  data[W * H - 1] = Region.lips; // not mouth interior
  await writeGrayPng(file, { width: W, height: H, data }, 1 / 255);
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mouth-interior-'));
  frames = [];
  for (let i = 0; i < 12; i++) {
    const labels = path.join(root, 'labels', `t${i}.png`);
    await fs.mkdir(path.dirname(labels), { recursive: true });
    await writeLabels(labels, mouthOf(i));
    frames.push({ labels, camera: { width: W, height: H }, cameraIndex: i % 3, timestep: i } as unknown as DatasetFrame);
  }
});

afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe('mouth-interior counts', () => {
  it('counts teeth and tongue pixels as isMouthOpen does, caches them, and recomputes a changed file', async () => {
    const fresh = await mouthInteriorCounts(frames, root);
    expect(fresh.map((c) => c.mouth)).toEqual(frames.map((_, i) => mouthOf(i)));
    expect(fresh.every((c) => c.pixels === W * H)).toBe(true);
    const cacheFile = path.join(root, MOUTH_INTERIOR_CACHE);
    const cached = JSON.parse(await fs.readFile(cacheFile, 'utf8')) as { entries: Record<string, { mouth: number }> };
    expect(Object.keys(cached.entries)).toHaveLength(12);
    // A cached entry is used as it is: tamper with one, and it comes back tampered (the file did not change).
    cached.entries[path.join('labels', 't3.png')]!.mouth = 999;
    await fs.writeFile(cacheFile, JSON.stringify(cached));
    expect((await mouthInteriorCounts(frames, root))[3]!.mouth).toBe(999);
    // Rewriting the label file (new size or time) invalidates its entry.
    await new Promise((r) => setTimeout(r, 20));
    await writeLabels(frames[3]!.labels, 5);
    expect((await mouthInteriorCounts(frames, root))[3]!.mouth).toBe(5);
    // An unreadable cache is rebuilt, not an error.
    await fs.writeFile(cacheFile, '{ not json');
    expect((await mouthInteriorCounts(frames, root)).map((c) => c.mouth)).toEqual(frames.map((_, i) => (i === 3 ? 5 : mouthOf(i))));
  });

  it('picks the same mouth-open frames with the cache as by decoding every label map', async () => {
    const o = { framesPerSplit: 4, mouthOpenFrames: 6, sampleSeed: 1, mouthOpenFraction: 20 / (W * H) };
    const withCache = await evaluationFrames(frames, o, root);
    const decoded = await evaluationFrames(frames, o, null);
    expect(withCache.map((p) => [p.frame.timestep, p.inSample])).toEqual(decoded.map((p) => [p.frame.timestep, p.inSample]));
    // And the decision is isMouthOpen's on the decoded maps.
    const { loadFrameLabels } = await import('../../lib/data/dataset.js');
    const open = new Set<number>();
    for (const f of frames) if (isMouthOpen(await loadFrameLabels(f), o.mouthOpenFraction)) open.add(f.timestep);
    for (const p of withCache.filter((x) => !x.inSample)) expect(open.has(p.frame.timestep)).toBe(true);
    expect(withCache.some((p) => !p.inSample)).toBe(true);
  });
});
