import { describe, expect, it } from 'vitest';
import { readPly, writePly } from '../../lib/raster/ply.js';
import type { Gaussians, ShDegree } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';

function randomGaussians(n: number, degree: ShDegree, seed: number): Gaussians {
  const rng = new Rng(seed);
  const K = (degree + 1) ** 2;
  const fill = (len: number) => Float32Array.from({ length: len }, () => rng.normal() * 3);
  return { count: n, shDegree: degree, means: fill(3 * n), logScales: fill(3 * n), quats: fill(4 * n), opacityLogits: fill(n), sh: fill(3 * K * n) };
}

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

/** A binary_little_endian PLY from a property list and rows of values (all float unless typed 'int'). */
function handPly(
  props: [string, 'float' | 'int' | 'uchar'][],
  rows: number[][],
  opts: { count?: number; format?: string; trailing?: string } = {},
): Uint8Array {
  const format = opts.format ?? 'binary_little_endian';
  const header =
    [
      'ply',
      `format ${format} 1.0`,
      'comment written by hand',
      `element vertex ${opts.count ?? rows.length}`,
      ...props.map(([n, t]) => `property ${t} ${n}`),
      'end_header',
    ].join('\n') + '\n';
  const head = new TextEncoder().encode(header);
  if (format === 'ascii') return new TextEncoder().encode(header + rows.map((r) => r.join(' ')).join('\n') + '\n' + (opts.trailing ?? ''));
  const size = (t: string) => (t === 'uchar' ? 1 : 4);
  const stride = props.reduce((s, [, t]) => s + size(t), 0);
  const out = new Uint8Array(head.length + rows.length * stride);
  out.set(head);
  const v = new DataView(out.buffer);
  let o = head.length;
  for (const r of rows) {
    props.forEach(([, t], k) => {
      if (t === 'float') v.setFloat32(o, r[k]!, true);
      else if (t === 'int') v.setInt32(o, r[k]!, true);
      else v.setUint8(o, r[k]!);
      o += size(t);
    });
  }
  return out;
}

/** A degree-1 vertex layout in a scrambled order, with normals, an int `binding` and a uchar `flag`. */
function degree1Layout(): [string, 'float' | 'int' | 'uchar'][] {
  const props: [string, 'float' | 'int' | 'uchar'][] = [
    ['rot_0', 'float'],
    ['rot_1', 'float'],
    ['rot_2', 'float'],
    ['rot_3', 'float'],
    ['binding', 'int'],
    ['x', 'float'],
    ['y', 'float'],
    ['z', 'float'],
    ['nx', 'float'],
    ['ny', 'float'],
    ['nz', 'float'],
    ['opacity', 'float'],
  ];
  for (let i = 8; i >= 0; i--) props.push([`f_rest_${i}`, 'float']);
  props.push(
    ['f_dc_0', 'float'],
    ['f_dc_1', 'float'],
    ['f_dc_2', 'float'],
    ['scale_0', 'float'],
    ['scale_1', 'float'],
    ['scale_2', 'float'],
    ['flag', 'uchar'],
  );
  return props;
}

/** Values for vertex v: property name → value (f_rest_i = 100·(v+1) + i, f_dc_c = 10·(v+1) + c). */
function degree1Value(name: string, v: number): number {
  const m = /^f_rest_(\d+)$/.exec(name);
  if (m) return 100 * (v + 1) + Number(m[1]);
  const d = /^f_dc_(\d)$/.exec(name);
  if (d) return 10 * (v + 1) + Number(d[1]);
  const table: Record<string, number> = {
    x: 1,
    y: 2,
    z: 3,
    nx: 0,
    ny: 0,
    nz: 1,
    opacity: -0.5,
    scale_0: -1,
    scale_1: -2,
    scale_2: -3,
    rot_0: 0.5,
    rot_1: 0.25,
    rot_2: 0.125,
    rot_3: 4,
    binding: 7,
    flag: 3,
  };
  return table[name]! * (v + 1);
}

describe('3DGS .ply', () => {
  it('round-trips Gaussians and extra properties bit-exactly for SH degrees 0–3', () => {
    for (const degree of [0, 1, 2, 3] as ShDegree[]) {
      const g = randomGaussians(37, degree, degree + 1);
      const binding = Int32Array.from({ length: 37 }, (_, i) => ((i * 7919) % 1001) - 3);
      const weight = Float32Array.from({ length: 37 }, (_, i) => Math.fround(i / 3));
      const bytes = writePly(g, { binding, weight });
      const { gaussians: r, extra } = readPly(bytes, 'rt.ply');
      expect(r.count).toBe(37);
      expect(r.shDegree).toBe(degree);
      for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) expect(bits(r[k])).toEqual(bits(g[k]));
      expect(Object.keys(extra).sort()).toEqual(['binding', 'weight']);
      expect(extra['binding']).toBeInstanceOf(Int32Array);
      expect([...extra['binding']!]).toEqual([...binding]);
      expect(bits(extra['weight'] as Float32Array)).toEqual(bits(weight));
    }
  });

  it('writes the standard 3DGS header with channel-major f_rest', () => {
    const g = randomGaussians(2, 1, 9);
    g.sh.set([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32], 0); // sh[0, k, c] = 10k + c
    const bytes = writePly(g);
    const text = new TextDecoder().decode(bytes.subarray(0, 800));
    const props = [...text.matchAll(/property float (\S+)/g)].map((m) => m[1]);
    expect(props.slice(0, 9)).toEqual(['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2']);
    expect(props.slice(18)).toEqual(['opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3']);
    // First vertex's f_rest_0..8 (after x..f_dc_2, 9 floats): channel-major = [10, 20, 30, 11, 21, 31, 12, 22, 32].
    const body = bytes.length - 2 * 4 * 26;
    const v = new DataView(bytes.buffer, bytes.byteOffset + body);
    expect(Array.from({ length: 9 }, (_, i) => v.getFloat32(4 * (9 + i), true))).toEqual([10, 20, 30, 11, 21, 31, 12, 22, 32]);
  });

  it('transposes a hand-written channel-major ply (any property order, binary and ascii) into coefficient-major sh', () => {
    const props = degree1Layout();
    const rows = [0, 1].map((v) => props.map(([n]) => degree1Value(n, v)));
    for (const format of ['binary_little_endian', 'ascii']) {
      const { gaussians: g, extra } = readPly(handPly(props, rows, { format }), `hand-${format}.ply`);
      expect(g.shDegree).toBe(1);
      for (let v = 0; v < 2; v++) {
        const s = v + 1;
        // sh[v, 0, c] = f_dc_c; sh[v, k, c] = f_rest_{3c + k − 1} (K − 1 = 3).
        const expected: number[] = [];
        for (let k = 0; k < 4; k++) for (let c = 0; c < 3; c++) expected.push(k === 0 ? 10 * s + c : 100 * s + 3 * c + (k - 1));
        expect([...g.sh.subarray(12 * v, 12 * v + 12)]).toEqual(expected);
        expect([...g.means.subarray(3 * v, 3 * v + 3)]).toEqual([1 * s, 2 * s, 3 * s]);
        expect([...g.quats.subarray(4 * v, 4 * v + 4)]).toEqual([0.5 * s, 0.25 * s, 0.125 * s, 4 * s]);
        expect([...g.logScales.subarray(3 * v, 3 * v + 3)]).toEqual([-1 * s, -2 * s, -3 * s]);
        expect(g.opacityLogits[v]).toBe(-0.5 * s);
      }
      expect(Object.keys(extra).sort()).toEqual(['binding', 'flag']); // normals are dropped
      expect([...extra['binding']!]).toEqual([7, 14]);
      expect(extra['flag']).toBeInstanceOf(Int32Array);
      expect([...extra['flag']!]).toEqual([3, 6]);
    }
  });

  it('reads big-endian files and skips other elements (faces with list properties) before the vertices', () => {
    const g = randomGaussians(3, 0, 4);
    const le = writePly(g);
    // Re-encode as big endian, with a 2-face element (uchar-counted int lists) first.
    const text = new TextDecoder('latin1').decode(le);
    const headEnd = text.indexOf('end_header\n') + 'end_header\n'.length;
    const header = text
      .slice(0, headEnd)
      .replace('binary_little_endian', 'binary_big_endian')
      .replace('element vertex 3', 'element face 2\nproperty list uchar int vertex_indices\nelement vertex 3');
    const head = new TextEncoder().encode(header);
    const faces = new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 9]);
    const body = le.subarray(headEnd);
    const be = new Uint8Array(body.length);
    for (let i = 0; i < body.length; i += 4) for (let b = 0; b < 4; b++) be[i + b] = body[i + 3 - b]!;
    const all = new Uint8Array(head.length + faces.length + be.length);
    all.set(head);
    all.set(faces, head.length);
    all.set(be, head.length + faces.length);
    const r = readPly(all, 'be.ply').gaussians;
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) expect(bits(r[k])).toEqual(bits(g[k]));
  });

  describe('errors name the file and the field', () => {
    const props = degree1Layout();
    const rows = [0, 1, 2].map((v) => props.map(([n]) => degree1Value(n, v)));

    it('missing property', () => {
      const without = (name: string) => {
        const keep = props.map((p, i) => [p, i] as const).filter(([p]) => p[0] !== name);
        return handPly(
          keep.map(([p]) => p),
          rows.map((r) => keep.map(([, i]) => r[i]!)),
        );
      };
      expect(() => readPly(without('rot_3'), 'head.ply')).toThrow("head.ply: missing vertex property 'rot_3'");
      expect(() => readPly(without('x'), 'a.ply')).toThrow("a.ply: missing vertex property 'x'");
      expect(() => readPly(without('f_rest_4'), 'b.ply')).toThrow("b.ply: missing vertex property 'f_rest_4' (the file has 8 f_rest properties)");
    });

    it('a gap in f_rest', () => {
      const renamed = props.map(([n, t]) => [n === 'f_rest_4' ? 'f_rest_9' : n, t] as [string, 'float' | 'int' | 'uchar']);
      expect(() => readPly(handPly(renamed, rows), 'gap.ply')).toThrow("gap.ply: missing vertex property 'f_rest_4'");
    });

    it('f_rest count matching no degree', () => {
      const seven = props.filter(([n]) => n !== 'f_rest_7' && n !== 'f_rest_8');
      expect(() => readPly(handPly(seven, [seven.map(() => 0)]), 'x.ply')).toThrow('x.ply: f_rest count 7 matches no SH degree');
    });

    it('vertex count not matching the body', () => {
      expect(() => readPly(handPly(props, rows, { count: 4 }), 'x.ply')).toThrow('x.ply: header says 4 vertices but the body holds 3');
      expect(() => readPly(handPly(props, rows, { count: 2 }), 'y.ply')).toThrow('y.ply: header says 2 vertices but the body holds 3');
      const truncated = handPly(props, rows).subarray(0, -5);
      expect(() => readPly(truncated, 'z.ply')).toThrow(/^z\.ply: header says 3 vertices but the body holds 2 \(and \d+ trailing bytes/);
      expect(() => readPly(handPly(props, rows, { count: 1000, format: 'ascii' }), 'w.ply')).toThrow('w.ply: header says 1000 vertices but the body holds 3');
    });

    it('malformed ascii values', () => {
      const bad = new TextDecoder()
        .decode(handPly(props, rows, { format: 'ascii' }))
        .replace(/\n([^\n]*)\n$/, (_, last: string) => `\n${last.replace(/^\S+/, 'abc')}\n`);
      expect(() => readPly(new TextEncoder().encode(bad), 'v.ply')).toThrow("v.ply: vertex 2 property 'rot_0' is not a number ('abc')");
      const short = new TextDecoder().decode(handPly(props, rows, { format: 'ascii' })).replace(/ \S+\n$/, '\n');
      expect(() => readPly(new TextEncoder().encode(short), 's.ply')).toThrow(`s.ply: vertex 2 has ${props.length - 1} values, expected ${props.length}`);
    });

    it('not a ply, no end_header, bad format, unknown type, list vertex property, no vertex element', () => {
      const enc = (t: string) => new TextEncoder().encode(t);
      expect(() => readPly(enc('solid cube\n'), 'cube.stl')).toThrow("cube.stl: not a PLY file (it does not start with 'ply')");
      expect(() => readPly(enc('ply\nformat ascii 1.0\nelement vertex 0\n'), 'h.ply')).toThrow("h.ply: PLY header has no 'end_header' line");
      expect(() => readPly(enc('ply\nformat binary_middle_endian 1.0\nend_header\n'), 'f.ply')).toThrow("f.ply: unsupported PLY format 'binary_middle_endian'");
      expect(() => readPly(enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty half x\nend_header\n'), 't.ply')).toThrow(
        "t.ply: vertex property 'x' has unknown type 'half'",
      );
      expect(() => readPly(enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty list uchar float x\nend_header\n'), 'l.ply')).toThrow(
        "l.ply: vertex property 'x' is a list",
      );
      expect(() => readPly(enc('ply\nformat ascii 1.0\nelement face 0\nproperty list uchar int i\nend_header\n'), 'n.ply')).toThrow(
        "n.ply: PLY has no 'vertex' element",
      );
    });

    it('writePly rejects wrongly sized arrays and clashing extra names', () => {
      const g = randomGaussians(4, 1, 2);
      expect(() => writePly({ ...g, sh: g.sh.subarray(1) })).toThrow('writePly: sh has 47 values, expected 48 for 4 Gaussians');
      expect(() => writePly(g, { binding: new Int32Array(3) })).toThrow("writePly: extra 'binding' has 3 values, expected 4 for 4 Gaussians");
      expect(() => writePly(g, { opacity: new Float32Array(4) })).toThrow("writePly: extra property 'opacity' clashes with a standard 3DGS property");
      expect(() => writePly(g, { 'a b': new Float32Array(4) })).toThrow("writePly: extra property name 'a b' is not a valid PLY property name");
    });
  });
});
