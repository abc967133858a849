/**
 * A content-addressed cache of 2D edits on disk, so that every arm of an ablation sees identical edits for
 * identical requests and a rerun costs no editor calls.
 *
 * Key: sha256 over a versioned header (the editor's description with every setting, instruction, seed,
 * guidance scales, strength, view, image sizes; JSON with sorted keys) followed by the raw float32 bytes of
 * the request's image and original. Value: `<dir>/<key[0..2]>/<key>.png`, written atomically. A cached edit
 * is 8-bit (PNG); a miss returns the very bytes it wrote, over 255, so a miss and a later hit give
 * bit-identical results. A file that does not decode to an image of the request's size is counted as
 * corrupt and recomputed.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { decodePng, type RgbImage } from '../../util/image.js';
import { encodePng8, toBytes } from '../../util/png.js';
import { checkEditRequest, type EditRequest, type EditorDescription, type ImageEditor } from './editor.js';

const CACHE_VERSION = 'gae-edit-cache/v1';

/** JSON with object keys sorted at every level, so equal settings always hash equally. */
export function stableStringify(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) return JSON.stringify(String(v));
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`;
}

function floatBytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function editCacheKey(editor: EditorDescription, req: EditRequest): string {
  const header = stableStringify({
    version: CACHE_VERSION,
    editor,
    instruction: req.instruction,
    seed: req.seed,
    guidanceScale: req.guidanceScale,
    imageGuidanceScale: req.imageGuidanceScale,
    strength: req.strength,
    view: req.view ?? null,
    image: [req.image.width, req.image.height],
    original: [req.original.width, req.original.height],
  });
  const h = createHash('sha256');
  h.update(header);
  h.update('\0');
  h.update(floatBytes(req.image.data));
  h.update(floatBytes(req.original.data));
  return h.digest('hex');
}

export interface EditCacheStats {
  hits: number;
  misses: number;
  /** Misses whose file existed but was unreadable or of the wrong size (then overwritten). */
  corrupt: number;
}

export class EditCache {
  readonly stats: EditCacheStats = { hits: 0, misses: 0, corrupt: 0 };
  constructor(readonly dir: string) {}

  file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.png`);
  }

  /** The cached image, or null on a miss; a file that does not decode to width×height counts as corrupt. */
  async get(key: string, width: number, height: number): Promise<RgbImage | null> {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(this.file(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`edit cache: cannot read ${this.file(key)} (${(e as Error).message})`, { cause: e });
    }
    try {
      const img = decodePng(bytes, this.file(key)).rgb;
      if (img.width !== width || img.height !== height) throw new Error('wrong size');
      return img;
    } catch {
      this.stats.corrupt++;
      return null;
    }
  }

  /**
   * Writes the edit atomically and returns it as a later `get` will read it (8-bit): the very bytes the file
   * stores, over 255, which is what decoding it gives (not decoded again: that cost a PNG decode per edit).
   * zlib level 1: an edit is written once per miss, and level 1 deflates a noisy 802×550 edit in ~20 ms
   * against ~190 ms at level 6, for a file ~18% larger.
   */
  async put(key: string, img: RgbImage): Promise<RgbImage> {
    const bytes = toBytes(img.data);
    await writeFileAtomic(this.file(key), await encodePng8(img.width, img.height, 3, bytes, 1));
    const data = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) data[i] = bytes[i]! / 255;
    return { width: img.width, height: img.height, data };
  }
}

/** An editor that answers from the cache and calls `inner` only on a miss; it describes itself as `inner`. */
export class CachedEditor implements ImageEditor {
  readonly cache: EditCache;
  private readonly inflight = new Map<string, Promise<RgbImage>>();
  constructor(
    readonly inner: ImageEditor,
    dir: string,
  ) {
    this.cache = new EditCache(dir);
  }
  get id(): string {
    return this.inner.id;
  }
  get stats(): EditCacheStats {
    return this.cache.stats;
  }
  describe(): EditorDescription {
    return this.inner.describe();
  }

  edit(req: EditRequest): Promise<RgbImage> {
    checkEditRequest(req, `cached ${this.inner.id} editor`);
    const key = editCacheKey(this.inner.describe(), req);
    // Concurrent requests for one key share one editor call.
    const pending = this.inflight.get(key);
    if (pending) {
      this.cache.stats.hits++;
      return pending.then((img) => ({ ...img, data: img.data.slice() }));
    }
    const p = (async () => {
      const hit = await this.cache.get(key, req.image.width, req.image.height);
      if (hit) {
        this.cache.stats.hits++;
        return hit;
      }
      this.cache.stats.misses++;
      const img = await this.inner.edit(req);
      if (img.width !== req.image.width || img.height !== req.image.height) {
        throw new Error(`cached editor: ${this.inner.id} returned ${img.width}x${img.height} for a ${req.image.width}x${req.image.height} request`);
      }
      return this.cache.put(key, img);
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}

export function cachedEditor(editor: ImageEditor, dir: string): CachedEditor {
  return new CachedEditor(editor, dir);
}
