/**
 * Reads Python pickles of numpy arrays and scipy sparse matrices (FLAME's model and mask files) with the
 * `pickleparser` package, whose name resolver we hook to rebuild exactly these classes:
 *
 *   numpy arrays     `_reconstruct(ndarray, (0,), b'b')` then a BUILD with (version, shape, dtype,
 *                    fortran, raw bytes); protocol 5 `_frombuffer(buffer, dtype, shape, order)`
 *   numpy dtypes     `dtype('f8', False, True)` then a BUILD whose state's second item is the byte order
 *   scipy sparse     csc / csr / coo matrices: an object whose state dict holds data, indices, indptr (or
 *                    row, col) and `_shape`, densified by `sparseToDense`
 *   chumpy arrays    FLAME 2020's shapedirs may be a `chumpy.Ch`; its state's `x` is the plain array
 *   bytes            Python 2 `str` (latin-1 decoded, one char per byte) and protocol-2 `bytes`, which
 *                    Python 3 writes as `_codecs.encode(text, 'latin1')`
 *
 * Any other class comes back as pickleparser's placeholder object, so a file with extra keys still loads.
 */
import { promises as fs } from 'node:fs';
import { BufferReader, NameRegistry, Parser } from 'pickleparser';
import { decodeArray, type NdArray } from './ndarray.js';

/** A numpy dtype as the pickle describes it, completed by BUILD. */
class PickledDtype {
  byteOrder = '<';
  constructor(readonly name: string) {}
  __setstate__(state: unknown[]): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
  }
  descr(): string {
    const order = this.byteOrder === '|' || this.byteOrder === '=' ? '<' : this.byteOrder;
    return /^[fiub]\d+$/.test(this.name) ? `${order}${this.name}` : this.name;
  }
}

/** Raw bytes from a pickled bytes object or a latin-1 decoded Python 2 str. */
function rawBytes(v: unknown, where: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v.charCodeAt(i);
    return out;
  }
  throw new Error(`${where}: array data is not raw bytes (object arrays are not supported)`);
}

/** An ndarray under construction: `_reconstruct` makes it, BUILD fills it. */
export class PickledArray {
  array?: NdArray;
  constructor(private readonly where: string) {}
  __setstate__(state: unknown[]): void {
    // (version, shape, dtype, is_fortran, data); very old pickles omit the version.
    const s = state.length === 5 ? state.slice(1) : state;
    const [shape, dtype, fortran, data] = s as [number[], PickledDtype, boolean, unknown];
    if (!(dtype instanceof PickledDtype)) throw new Error(`${this.where}: array state without a dtype`);
    this.array = decodeArray(rawBytes(data, this.where), dtype.descr(), shape.map(Number), !!fortran, this.where);
  }
}

/** A scipy sparse matrix (csc, csr or coo) as its state dict holds it. */
export class PickledSparse {
  state: Record<string, unknown> = {};
  constructor(readonly format: 'csc' | 'csr' | 'coo') {}
  __setstate__(state: Record<string, unknown>): void {
    this.state = state instanceof Map ? Object.fromEntries(state) : state;
  }
}

/** A chumpy array: its state's `x` is the value. */
export class PickledChumpy {
  state: Record<string, unknown> = {};
  __setstate__(state: Record<string, unknown>): void {
    this.state = state instanceof Map ? Object.fromEntries(state) : state;
  }
}

const SPARSE: Record<string, 'csc' | 'csr' | 'coo'> = {
  csc_matrix: 'csc',
  csc_array: 'csc',
  csr_matrix: 'csr',
  csr_array: 'csr',
  coo_matrix: 'coo',
  coo_array: 'coo',
};

class Resolver extends NameRegistry {
  constructor(private readonly where: string) {
    super();
  }

  override resolve(module: string, name: string): (new (...args: never[]) => unknown) | ((...args: never[]) => unknown) {
    const where = this.where;
    if (/^numpy(\._core|\.core)?\.multiarray$/.test(module) && name === '_reconstruct') return () => new PickledArray(where);
    if (/^numpy(\._core|\.core)?\.numeric$/.test(module) && name === '_frombuffer') {
      return (buf: unknown, dtype: PickledDtype, shape: number[], order: string) =>
        ({ array: decodeArray(rawBytes(buf, where), dtype.descr(), shape.map(Number), order === 'F', where) }) as PickledArray;
    }
    if (/^numpy(\._core|\.core)?\.multiarray$/.test(module) && name === 'scalar') {
      return (dtype: PickledDtype, data: unknown) => decodeArray(rawBytes(data, where), dtype.descr(), [], false, where).data[0];
    }
    if (module === 'numpy' && name === 'dtype') return (n: string) => new PickledDtype(String(n));
    if (module === '_codecs' && name === 'encode') return (text: string) => rawBytes(text, where);
    if ((module === 'copy_reg' || module === 'copyreg') && name === '_reconstructor') {
      return (cls: new () => unknown) => Reflect.construct(cls, []);
    }
    if (module.startsWith('scipy.sparse') && SPARSE[name]) {
      const format = SPARSE[name]!;
      return class extends PickledSparse {
        constructor() {
          super(format);
        }
      };
    }
    if (module.startsWith('chumpy')) return PickledChumpy;
    return super.resolve(module, name);
  }
}

/** Python 2 `str` longer than this is array data, not text: it is handed on as bytes. */
const RAW_STR_BYTES = 4096;

/**
 * Python 2 `str` is bytes: short ones (dict keys, dtype names) are decoded one char per byte, not as the
 * parser's windows-1252 "ascii"; long ones (array data) stay bytes, sparing a 50 MB string round trip.
 */
class Latin1Reader extends BufferReader {
  override string(size: number, encoding: 'ascii' | 'utf-8'): string {
    if (encoding === 'utf-8') return super.string(size, encoding);
    const b = this.bytes(size);
    if (size > RAW_STR_BYTES) return b as unknown as string;
    let s = '';
    for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
    return s;
  }
}

/** Unpickles `bytes`; errors name `file`. Arrays come back as PickledArray, matrices as PickledSparse. */
export function parsePickle(bytes: Uint8Array, file: string): unknown {
  if (bytes.byteLength < 2 || bytes[0] !== 0x80) throw new Error(`${file}: not a binary Python pickle (protocol 2 or later)`);
  try {
    return new Parser({ nameResolver: new Resolver(file) }).read(new Latin1Reader(bytes));
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith(file) ? msg : `${file}: cannot unpickle (${msg})`, { cause: e });
  }
}

export async function readPickle(file: string): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  return parsePickle(bytes, file);
}

/** A value of a pickled dict as an array (numpy or chumpy); the error names the file and the key. */
export function pickledArray(v: unknown, where: string): NdArray {
  if (v instanceof PickledChumpy) return pickledArray(v.state['x'], `${where} (chumpy x)`);
  if (v instanceof PickledArray && v.array) return v.array;
  if (v && typeof v === 'object' && 'array' in v && (v as PickledArray).array) return (v as PickledArray).array!;
  if (v instanceof PickledSparse) return sparseToDense(v, where);
  throw new Error(`${where}: expected a numpy array, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v !== 'object') return typeof v;
  const p = Object.getPrototypeOf(v) as { __module__?: string; __name__?: string } | null;
  return p?.__module__ ? `${p.__module__}.${p.__name__}` : Array.isArray(v) ? 'a list' : 'an object';
}

/** A pickled scipy sparse matrix as a dense row-major Float64Array [rows, cols]. */
export function sparseToDense(m: unknown, where: string): NdArray {
  if (!(m instanceof PickledSparse)) return pickledArray(m, where); // some files store it dense
  const s = m.state;
  const shape = (s['_shape'] ?? s['shape']) as number[] | undefined;
  if (!Array.isArray(shape) || shape.length !== 2) throw new Error(`${where}: sparse matrix without a 2-D _shape`);
  const [rows, cols] = shape.map(Number) as [number, number];
  const get = (k: string) => {
    const v = s[k];
    if (v === undefined) throw new Error(`${where}: sparse ${m.format} matrix without '${k}'`);
    return pickledArray(v, `${where}.${k}`).data;
  };
  const out = new Float64Array(rows * cols);
  const data = get('data');
  const put = (r: number, c: number, v: number) => {
    if (!(r >= 0 && r < rows && c >= 0 && c < cols)) throw new Error(`${where}: sparse entry (${r}, ${c}) outside shape (${rows}, ${cols})`);
    out[r * cols + c] += v;
  };
  if (m.format === 'coo') {
    const row = get('row'),
      col = get('col');
    for (let i = 0; i < data.length; i++) put(row[i]!, col[i]!, data[i]!);
  } else {
    const indices = get('indices'),
      indptr = get('indptr');
    const major = m.format === 'csc' ? cols : rows;
    if (indptr.length !== major + 1) throw new Error(`${where}: indptr has ${indptr.length} entries, expected ${major + 1}`);
    for (let j = 0; j < major; j++) {
      for (let p = indptr[j]!; p < indptr[j + 1]!; p++) {
        if (m.format === 'csc') put(indices[p]!, j, data[p]!);
        else put(j, indices[p]!, data[p]!);
      }
    }
  }
  return { dtype: 'f8', shape: [rows, cols], data: out };
}
