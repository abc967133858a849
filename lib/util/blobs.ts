/**
 * A checkpoint's binary part: named float32 arrays in one file, a JSON index of name → shape, offset, length
 * (in floats) after a little-endian u32 index length, padded so that the floats start 4-byte aligned.
 * Reconstruction and editing checkpoints both write their optimiser state this way, so one reader serves both.
 */

export interface Blob32 {
  shape: number[];
  data: Float32Array;
}

export type Blobs = Record<string, Blob32>;

interface IndexEntry {
  shape: number[];
  offset: number;
  length: number;
}

export function packBlobs(parts: Blobs): Uint8Array {
  const index: Record<string, IndexEntry> = {};
  let o = 0;
  for (const [k, v] of Object.entries(parts)) {
    const size = v.shape.reduce((a, b) => a * b, 1);
    if (size !== v.data.length) throw new Error(`packBlobs: ${k}: shape [${v.shape.join(', ')}] holds ${size} values, data has ${v.data.length}`);
    index[k] = { shape: v.shape, offset: o, length: v.data.length };
    o += v.data.length;
  }
  const head = new TextEncoder().encode(JSON.stringify(index));
  const pad = (4 - ((head.length + 4) % 4)) % 4;
  const out = new Uint8Array(4 + head.length + pad + 4 * o);
  new DataView(out.buffer).setUint32(0, head.length + pad, true);
  out.set(head, 4);
  out.fill(0x20, 4 + head.length, 4 + head.length + pad);
  const f = new Float32Array(out.buffer, 4 + head.length + pad, o);
  for (const [k, v] of Object.entries(parts)) f.set(v.data, index[k]!.offset);
  return out;
}

/** Reads a packed file's arrays (copies); `file` names it in errors. */
export function unpackBlobs(bytes: Uint8Array, file: string): Blobs {
  const copy = bytes.slice();
  if (copy.length < 4) throw new Error(`${file}: ${copy.length} bytes, too short for a blob index`);
  const n = new DataView(copy.buffer).getUint32(0, true);
  if (4 + n > copy.length || (copy.length - 4 - n) % 4 !== 0) throw new Error(`${file}: corrupt index (length ${n} in a ${copy.length}-byte file)`);
  let index: Record<string, IndexEntry>;
  try {
    index = JSON.parse(new TextDecoder().decode(copy.subarray(4, 4 + n))) as Record<string, IndexEntry>;
  } catch {
    throw new Error(`${file}: corrupt index (not JSON)`);
  }
  const f = new Float32Array(copy.buffer, 4 + n, (copy.length - 4 - n) / 4);
  const out: Blobs = {};
  for (const [k, v] of Object.entries(index)) {
    if (v.offset + v.length > f.length) throw new Error(`${file}: ${k} runs past the end of the file`);
    out[k] = { shape: v.shape, data: f.slice(v.offset, v.offset + v.length) };
  }
  return out;
}

/** The named array, or an error that names the file and the missing entry. */
export function blobOf(blobs: Blobs, name: string, file: string, length?: number): Float32Array {
  const b = blobs[name];
  if (!b) throw new Error(`${file}: no '${name}' array`);
  if (length !== undefined && b.data.length !== length) throw new Error(`${file}: '${name}' holds ${b.data.length} values, expected ${length}`);
  return b.data;
}
