/**
 * numpy's `.npy` (one array) and `.npz` (a zip of `.npy` files, stored or deflated) readers and a `.npy`
 * / `.npz` writer for the same dtypes. Every error names the file and, for `.npz`, the key.
 *
 * .npy layout: magic "\x93NUMPY", major and minor version bytes, a little-endian header length (uint16 in
 * version 1, uint32 in 2 and 3), then a Python dict literal {'descr': '<f8', 'fortran_order': False,
 * 'shape': (3, 4), } padded with spaces to 64 bytes, then the raw elements.
 */
import { promises as fs } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { decodeArray, parseDescr, type NdArray } from './ndarray.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses one `.npy` file's bytes; `where` names it in errors (file, or file:key inside an .npz). */
export function parseNpy(bytes: Uint8Array, where: string): NdArray {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${where}: not a .npy array (bad magic)`);
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number, start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) throw new Error(`${where}: truncated .npy header`);
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw new Error(`${where}: unsupported .npy version ${major}`);
  }
  if (start + headerLen > bytes.byteLength) throw new Error(`${where}: truncated .npy header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${where}: malformed .npy header ${JSON.stringify(header.trim())} (object arrays and structured dtypes are not supported)`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${where}: malformed shape (${shapeText})`);
  return decodeArray(bytes.subarray(start + headerLen), descr, shape, fortran === 'True', where);
}

/** Parses an `.npz`: key (file name without `.npy`) → array. */
export function parseNpz(bytes: Uint8Array, file: string): Map<string, NdArray> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new Error(`${file}: not a valid .npz (zip) archive (${(e as Error).message})`, { cause: e });
  }
  const out = new Map<string, NdArray>();
  for (const [name, data] of Object.entries(entries)) {
    if (!name.endsWith('.npy')) continue;
    const key = name.slice(0, -4);
    out.set(key, parseNpy(data, `${file}: ${key}`));
  }
  return out;
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

export async function readNpy(file: string): Promise<NdArray> {
  return parseNpy(await readBytes(file), file);
}

export async function readNpz(file: string): Promise<Map<string, NdArray>> {
  return parseNpz(await readBytes(file), file);
}

/** One key of a parsed .npz, or an error naming the file, the key and the keys there are. */
export function npzKey(npz: Map<string, NdArray>, key: string, file: string): NdArray {
  const a = npz.get(key);
  if (!a) throw new Error(`${file}: ${key}: missing (keys present: ${[...npz.keys()].join(', ') || 'none'})`);
  return a;
}

const DESCR: Record<string, string> = { f4: '<f4', f8: '<f8', i4: '<i4', u4: '<u4', u1: '|u1', i1: '|i1', i2: '<i2', u2: '<u2', b1: '|b1' };

/** Serialises an array as a version-1 `.npy` (little endian, C order). 64-bit integers are not written. */
export function encodeNpy(a: NdArray): Uint8Array {
  const descr = DESCR[a.dtype];
  if (!descr) throw new Error(`encodeNpy: cannot write dtype ${a.dtype}`);
  parseDescr(descr, 'encodeNpy');
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const data = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

/** Serialises arrays as an `.npz` (deflated, as numpy.savez_compressed). */
export function encodeNpz(arrays: Record<string, NdArray>): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [k, a] of Object.entries(arrays)) files[`${k}.npy`] = encodeNpy(a);
  return zipSync(files, { level: 6 });
}
