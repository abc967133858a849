/**
 * A numpy array read from a file (.npy, .npz, .pkl): its dtype, shape and a typed array of its values in
 * C (row-major) order. Shared by the .npy reader and the pickle loader, which meet the same dtypes.
 */

export type NdData = Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface NdArray {
  /** numpy's type code without byte order: f4, f8, i4, i8, u1, b1 ... */
  dtype: string;
  shape: number[];
  /** Values in C order. 64-bit integers arrive as Float64Array (exact up to 2^53), bools as Uint8Array. */
  data: NdData;
}

const ITEM: Record<string, { bytes: number; read: (dv: DataView, o: number, le: boolean) => number; ctor: new (n: number) => NdData }> = {
  f4: { bytes: 4, read: (d, o, le) => d.getFloat32(o, le), ctor: Float32Array },
  f8: { bytes: 8, read: (d, o, le) => d.getFloat64(o, le), ctor: Float64Array },
  i1: { bytes: 1, read: (d, o) => d.getInt8(o), ctor: Int8Array },
  u1: { bytes: 1, read: (d, o) => d.getUint8(o), ctor: Uint8Array },
  b1: { bytes: 1, read: (d, o) => d.getUint8(o), ctor: Uint8Array },
  i2: { bytes: 2, read: (d, o, le) => d.getInt16(o, le), ctor: Int16Array },
  u2: { bytes: 2, read: (d, o, le) => d.getUint16(o, le), ctor: Uint16Array },
  i4: { bytes: 4, read: (d, o, le) => d.getInt32(o, le), ctor: Int32Array },
  u4: { bytes: 4, read: (d, o, le) => d.getUint32(o, le), ctor: Uint32Array },
  i8: { bytes: 8, read: (d, o, le) => Number(d.getBigInt64(o, le)), ctor: Float64Array },
  u8: { bytes: 8, read: (d, o, le) => Number(d.getBigUint64(o, le)), ctor: Float64Array },
};

/** numpy's long names as pickles spell dtypes (`numpy.dtype('float64')`) → type codes. */
const LONG_NAMES: Record<string, string> = {
  float32: 'f4',
  float64: 'f8',
  int8: 'i1',
  uint8: 'u1',
  bool: 'b1',
  int16: 'i2',
  uint16: 'u2',
  int32: 'i4',
  uint32: 'u4',
  int64: 'i8',
  uint64: 'u8',
};

/** Splits a descr like '<f8', '|u1', 'float64' into byte order and type code; `where` names the source. */
export function parseDescr(descr: string, where: string): { code: string; littleEndian: boolean } {
  const long = LONG_NAMES[descr];
  if (long) return { code: long, littleEndian: true };
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  const code = m ? `${m[2]}${m[3]}` : '';
  if (!m || !ITEM[code]) throw new Error(`${where}: unsupported dtype '${descr}' (expected float32/64, (u)int8/16/32/64 or bool)`);
  return { code, littleEndian: m[1] !== '>' };
}

export function itemBytes(code: string): number {
  return ITEM[code]!.bytes;
}

const product = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Decodes raw element bytes into an NdArray (copying, so the result is aligned and owns its memory).
 * Fortran-ordered data is transposed into C order.
 */
export function decodeArray(bytes: Uint8Array, descr: string, shape: number[], fortranOrder: boolean, where: string): NdArray {
  const { code, littleEndian } = parseDescr(descr, where);
  const item = ITEM[code]!;
  const n = product(shape);
  if (bytes.byteLength !== n * item.bytes) {
    throw new Error(`${where}: expected ${n * item.bytes} bytes of data for shape (${shape.join(', ')}) ${descr}, got ${bytes.byteLength}`);
  }
  let flat: NdData;
  if ((littleEndian || item.bytes === 1) && code !== 'i8' && code !== 'u8') {
    // Same layout as the typed array: one aligned copy.
    const buf = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(buf).set(bytes);
    flat = new (item.ctor as unknown as new (b: ArrayBuffer) => NdData)(buf);
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    flat = new item.ctor(n);
    for (let i = 0; i < n; i++) flat[i] = item.read(dv, i * item.bytes, littleEndian);
  }
  return { dtype: code, shape: [...shape], data: fortranOrder && shape.length > 1 ? fortranToC(flat, shape) : flat };
}

function fortranToC(src: NdData, shape: number[]): NdData {
  const n = src.length;
  const out = new (src.constructor as new (n: number) => NdData)(n);
  const d = shape.length;
  // C-order index → Fortran-order index, by walking the C multi-index.
  const idx = new Array<number>(d).fill(0);
  const fStride = new Array<number>(d);
  fStride[0] = 1;
  for (let k = 1; k < d; k++) fStride[k] = fStride[k - 1]! * shape[k - 1]!;
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let k = 0; k < d; k++) f += idx[k]! * fStride[k]!;
    out[i] = src[f]!;
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** The values as float64 (a copy unless already Float64Array). */
export function asFloat64(a: NdArray): Float64Array {
  return a.data instanceof Float64Array ? a.data : Float64Array.from(a.data);
}

/**
 * Checks an array's shape against `want` (−1 = any size there) and returns it; the error names `where`
 * (file and key), e.g. `subject/flame_param/00000.npz: expr: expected shape (1, 100), got (100)`.
 */
export function expectShape(a: NdArray, want: number[], where: string): NdArray {
  const ok = a.shape.length === want.length && want.every((w, i) => w < 0 || a.shape[i] === w);
  if (!ok) {
    const fmt = (s: number[]) => `(${s.map((x) => (x < 0 ? '*' : x)).join(', ')})`;
    throw new Error(`${where}: expected shape ${fmt(want)}, got ${fmt(a.shape)}`);
  }
  return a;
}
