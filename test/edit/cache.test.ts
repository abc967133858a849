import { afterAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedEditor, editCacheKey, stableStringify } from '../../lib/edit/editors/cache.js';
import { OfflineEditor } from '../../lib/edit/editors/offline.js';
import { ToyGroundTruth } from '../../lib/edit/editors/toy.js';
import { editRequest, type EditRequest, type ImageEditor } from '../../lib/edit/editors/editor.js';
import { quantize8 } from '../../lib/edit/editors/image-io.js';
import { encodePng, readPng, rgbImage } from '../../lib/util/image.js';

const gt = new ToyGroundTruth(24, 24);
const dirs: string[] = [];
async function tmpDir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'edit-cache-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

/** Counts calls to an inner editor; optionally fails or waits. */
class Counting implements ImageEditor {
  calls = 0;
  fail = false;
  constructor(
    readonly inner: ImageEditor,
    readonly delayMs = 0,
  ) {}
  get id() {
    return this.inner.id;
  }
  describe() {
    return this.inner.describe();
  }
  async edit(r: EditRequest) {
    this.calls++;
    if (this.delayMs) await new Promise((res) => setTimeout(res, this.delayMs));
    if (this.fail) throw new Error('editor down');
    return this.inner.edit(r);
  }
}

function req(seed = 1, timestep = 3): EditRequest {
  const view = { subject: 'toy', camera: 0, timestep };
  const original = gt.original(view);
  return editRequest({ image: original, original, instruction: 'turn his teeth gold', seed, strength: 0.8, view });
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('edit cache', () => {
  it('misses, then hits without calling the editor, with bit-identical 8-bit results', async () => {
    const dir = await tmpDir();
    const inner = new Counting(new OfflineEditor(gt, { inconsistency: 0.6 }));
    const ed = cachedEditor(inner, dir);
    const a = await ed.edit(req());
    const b = await ed.edit(req());
    expect(inner.calls).toBe(1);
    expect(ed.stats).toEqual({ hits: 1, misses: 1, corrupt: 0 });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(Array.from(a.data)).toEqual(Array.from(quantize8(await inner.inner.edit(req())).data));
    // A fresh cache object on the same directory (a rerun) hits too.
    const again = cachedEditor(inner, dir);
    expect(Array.from((await again.edit(req())).data)).toEqual(Array.from(a.data));
    expect(inner.calls).toBe(1);
    expect(again.stats.hits).toBe(1);
    expect(ed.describe()).toEqual(inner.describe());
  });

  it('keys on seed, request fields, image bytes and editor settings', async () => {
    const dir = await tmpDir();
    const inner = new Counting(new OfflineEditor(gt, { inconsistency: 0.6 }));
    const ed = cachedEditor(inner, dir);
    await ed.edit(req(1));
    await ed.edit(req(2));
    expect(inner.calls).toBe(2);
    expect(ed.stats.misses).toBe(2);
    const d = new OfflineEditor(gt, { inconsistency: 0.6 }).describe();
    const d2 = new OfflineEditor(gt, { inconsistency: 0.7 }).describe();
    const base = req(1);
    const k = editCacheKey(d, base);
    expect(editCacheKey(d, req(1))).toBe(k);
    expect(editCacheKey(d2, base)).not.toBe(k);
    for (const change of [
      { strength: 0.81 },
      { guidanceScale: 7 },
      { imageGuidanceScale: 1.4 },
      { instruction: 'make his lips blue' },
      { view: { subject: 'toy', camera: 1, timestep: 3 } },
    ]) {
      expect(editCacheKey(d, { ...base, ...change })).not.toBe(k);
    }
    const img = { ...base.image, data: base.image.data.slice() };
    img.data[17] = img.data[17]! + 1e-6;
    expect(editCacheKey(d, { ...base, image: img })).not.toBe(k);
    expect(editCacheKey(d, { ...base, original: img })).not.toBe(k);
    expect(stableStringify({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(stableStringify({ a: { c: 'x', d: [1, 2] }, b: 1 }));
  });

  it('recomputes a corrupted or wrong-sized cache file and repairs it', async () => {
    const dir = await tmpDir();
    const inner = new Counting(new OfflineEditor(gt, { inconsistency: 0.6 }));
    const ed = cachedEditor(inner, dir);
    const first = await ed.edit(req());
    const file = ed.cache.file(editCacheKey(ed.describe(), req()));
    const bytes = await fs.readFile(file);
    await fs.writeFile(file, bytes.subarray(0, bytes.length >> 1));
    const second = await ed.edit(req());
    expect(inner.calls).toBe(2);
    expect(ed.stats.corrupt).toBe(1);
    expect(Array.from(second.data)).toEqual(Array.from(first.data));
    expect((await readPng(file)).rgb.width).toBe(24);
    await ed.edit(req());
    expect(inner.calls).toBe(2);
    // A valid PNG of the wrong size is corrupt as well.
    await fs.writeFile(file, encodePng(rgbImage(8, 8)));
    await ed.edit(req());
    expect(inner.calls).toBe(3);
    expect(ed.stats.corrupt).toBe(2);
  });

  it('writes atomically: a failed edit or a crashed write leaves nothing a later run would read', async () => {
    const dir = await tmpDir();
    const inner = new Counting(new OfflineEditor(gt, { inconsistency: 0.6 }));
    inner.fail = true;
    const ed = cachedEditor(inner, dir);
    await expect(ed.edit(req())).rejects.toThrow(/editor down/);
    expect(await listFiles(dir)).toEqual([]);
    // A temp file left by a crash mid-write, next to where the entry goes, is never taken for the entry.
    const file = ed.cache.file(editCacheKey(ed.describe(), req()));
    await fs.mkdir(path.dirname(file), { recursive: true });
    const stale = path.join(path.dirname(file), `.${path.basename(file)}.12345.deadbeef.tmp`);
    await fs.writeFile(stale, 'half a png');
    inner.fail = false;
    await ed.edit(req());
    expect(inner.calls).toBe(2);
    expect(ed.stats.hits).toBe(0);
    expect((await readPng(file)).rgb.height).toBe(24);
  });

  it('shares one editor call among concurrent requests, and many writers leave only complete files', async () => {
    const dir = await tmpDir();
    const inner = new Counting(new OfflineEditor(gt, { inconsistency: 0.6 }), 20);
    const ed = cachedEditor(inner, dir);
    const same = await Promise.all(Array.from({ length: 6 }, () => ed.edit(req(4))));
    expect(inner.calls).toBe(1);
    for (const img of same) expect(Array.from(img.data)).toEqual(Array.from(same[0]!.data));
    // Two cache objects (two processes' worth) racing on the same keys.
    const ed2 = cachedEditor(inner, dir);
    await Promise.all([1, 2, 3, 5, 6].flatMap((s) => [ed.edit(req(s)), ed2.edit(req(s))]));
    const files = await listFiles(dir);
    expect(files.every((f) => f.endsWith('.png') && !path.basename(f).startsWith('.'))).toBe(true);
    expect(files).toHaveLength(6);
    for (const f of files) expect((await readPng(f)).rgb.width).toBe(24);
  });
});
