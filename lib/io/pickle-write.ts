/**
 * A tiny protocol-2 pickler for fixtures (the tests, notebook 06's stand-in FLAME model): dicts of numpy
 * arrays, a scipy csc matrix and a chumpy array, laid out as Python writes them, so the FLAME loader can be
 * exercised without FLAME, numpy or scipy.
 * `style: 'py2'` writes strings and raw bytes as Python 2 `str` (as FLAME 2020's generic_model.pkl);
 * `'py3'` writes text as unicode and bytes as `_codecs.encode(text, 'latin1')` (Python 3, protocol 2).
 */

export type PyValue =
  | { int: number }
  | { float: number }
  | { str: string }
  | null
  | boolean
  | PyValue[] // tuple
  | { dict: [string, PyValue][] }
  | { ndarray: { descr: string; shape: number[]; bytes: Uint8Array } }
  | { csc: { shape: [number, number]; data: Float64Array; indices: Int32Array; indptr: Int32Array } }
  | { chumpy: PyValue }
  | { raw: number[] }; // opcodes spliced in as they are (malformed-input tests)

export class Pickler {
  private out: number[] = [];
  private chunks: Uint8Array[] = [];
  private flush() {
    this.chunks.push(Uint8Array.from(this.out));
    this.out = [];
  }
  private block(b: Uint8Array) {
    this.flush();
    this.chunks.push(b);
  }
  constructor(private readonly style: 'py2' | 'py3' = 'py2') {}

  private byte(...b: number[]) {
    this.out.push(...b);
  }
  private u32(n: number) {
    this.byte(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  }
  private line(s: string) {
    for (const c of s) this.byte(c.charCodeAt(0));
    this.byte(0x0a);
  }
  private global(module: string, name: string) {
    this.byte(0x63); // GLOBAL
    this.line(module);
    this.line(name);
  }
  private text(s: string) {
    const b = new TextEncoder().encode(s);
    if (this.style === 'py2' && b.length === s.length) {
      if (b.length < 256)
        this.byte(0x55, b.length); // SHORT_BINSTRING
      else {
        this.byte(0x54); // BINSTRING
        this.u32(b.length);
      }
    } else {
      this.byte(0x58); // BINUNICODE
      this.u32(b.length);
    }
    for (const x of b) this.byte(x);
  }
  private bytes(b: Uint8Array) {
    if (this.style === 'py2') {
      this.byte(0x54); // BINSTRING: Python 2 str holds bytes
      this.u32(b.length);
      this.block(b);
    } else {
      // Python 3 protocol 2: _codecs.encode(<bytes as latin-1 text>, 'latin1')
      this.global('_codecs', 'encode');
      // UTF-8 of the latin-1 text: bytes ≥ 0x80 take two.
      let n = 0;
      for (const x of b) n += x < 0x80 ? 1 : 2;
      const u = new Uint8Array(n);
      let o = 0;
      for (const x of b)
        if (x < 0x80) u[o++] = x;
        else {
          u[o++] = 0xc0 | (x >> 6);
          u[o++] = 0x80 | (x & 63);
        }
      this.byte(0x58);
      this.u32(n);
      this.block(u);
      this.text('latin1');
      this.byte(0x86, 0x52); // TUPLE2 REDUCE
    }
  }

  value(v: PyValue): this {
    if (v === null) this.byte(0x4e);
    else if (v === true) this.byte(0x88);
    else if (v === false) this.byte(0x89);
    else if (Array.isArray(v)) {
      this.byte(0x28); // MARK
      for (const x of v) this.value(x);
      this.byte(0x74); // TUPLE
    } else if ('int' in v) {
      if (v.int >= 0 && v.int < 256) this.byte(0x4b, v.int);
      else if (Number.isInteger(v.int) && v.int >= -(2 ** 31) && v.int < 2 ** 31) {
        this.byte(0x4a);
        this.u32(v.int >>> 0);
      } else throw new Error('Pickler: int out of range');
    } else if ('float' in v) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v.float, false);
      this.byte(0x47, ...b);
    } else if ('str' in v) this.text(v.str);
    else if ('dict' in v) {
      this.byte(0x7d, 0x28); // EMPTY_DICT MARK
      for (const [k, x] of v.dict) {
        this.text(k);
        this.value(x);
      }
      this.byte(0x75); // SETITEMS
    } else if ('ndarray' in v) {
      const { descr, shape, bytes } = v.ndarray;
      this.global('numpy.core.multiarray', '_reconstruct');
      this.global('numpy', 'ndarray');
      this.value([{ int: 0 }]);
      this.bytes(new Uint8Array([0x62])); // b'b'
      this.byte(0x87, 0x52); // TUPLE3 REDUCE
      this.byte(0x28); // MARK: state
      this.value({ int: 1 });
      this.value(shape.map((n) => ({ int: n })));
      this.global('numpy', 'dtype');
      this.text(descr.slice(1));
      this.byte(0x89, 0x88, 0x87, 0x52); // False True TUPLE3 REDUCE
      this.value([{ int: 3 }, { str: descr[0]! }, null, null, null, { int: -1 }, { int: -1 }, { int: 0 }]);
      this.byte(0x62); // BUILD (dtype)
      this.byte(0x89); // fortran_order False
      this.bytes(bytes);
      this.byte(0x74, 0x62); // TUPLE BUILD
    } else if ('csc' in v) {
      const m = v.csc;
      this.global('copy_reg', '_reconstructor');
      this.global('scipy.sparse.csc', 'csc_matrix');
      this.global('__builtin__', 'object');
      this.byte(0x4e, 0x87, 0x52); // None TUPLE3 REDUCE
      this.value({
        dict: [
          ['_shape', [{ int: m.shape[0] }, { int: m.shape[1] }]],
          ['data', ndarray('<f8', [m.data.length], m.data)],
          ['indices', ndarray('<i4', [m.indices.length], m.indices)],
          ['indptr', ndarray('<i4', [m.indptr.length], m.indptr)],
          ['maxprint', { int: 50 }],
        ],
      });
      this.byte(0x62); // BUILD
    } else if ('chumpy' in v) {
      this.global('chumpy.ch', 'Ch');
      this.byte(0x29, 0x81); // EMPTY_TUPLE NEWOBJ
      this.value({ dict: [['x', v.chumpy]] });
      this.byte(0x62);
    } else if ('raw' in v) this.byte(...v.raw);
    return this;
  }

  /** The whole pickle of `v`: PROTO 2 … STOP. */
  static dump(v: PyValue, style: 'py2' | 'py3' = 'py2'): Uint8Array {
    const p = new Pickler(style);
    p.byte(0x80, 2);
    p.value(v);
    p.byte(0x2e);
    p.flush();
    const out = new Uint8Array(p.chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of p.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** A numpy array value from a typed array (little endian, C order). */
export function ndarray(descr: string, shape: number[], data: Float64Array | Float32Array | Int32Array | Uint32Array | BigInt64Array): PyValue {
  return { ndarray: { descr, shape, bytes: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) } };
}
