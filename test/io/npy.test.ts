import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { encodeNpy, encodeNpz, npzKey, parseNpy, parseNpz } from '../../lib/io/npy.js';
import { expectShape } from '../../lib/io/ndarray.js';

/** A .npy with a hand-written header (to test what encodeNpy never writes). */
function rawNpy(header: string, data: Uint8Array): Uint8Array {
  const h = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
  out.set(data, 10 + h.length);
  return out;
}

describe('.npy / .npz', () => {
  it('round-trips arrays through .npz', () => {
    const expr = { dtype: 'f4', shape: [1, 5], data: Float32Array.from([0.5, -1, 2.25, 3, 1e-7]) };
    const ids = { dtype: 'i4', shape: [3], data: Int32Array.from([7, -2, 9]) };
    const npz = parseNpz(encodeNpz({ expr, ids }), 'a.npz');
    expect(npz.get('expr')).toEqual(expr);
    expect(npz.get('ids')).toEqual(ids);
  });

  it('reads Fortran order, big endian and int64 as numpy means them', () => {
    // [[1, 2, 3], [4, 5, 6]] stored column-major.
    const f = new Float64Array([1, 4, 2, 5, 3, 6]);
    const a = parseNpy(rawNpy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(f.buffer)), 'f.npy');
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -3, false);
    expect(Array.from(parseNpy(rawNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be), 'b.npy').data)).toEqual([1.5, -3]);
    const i8 = new BigInt64Array([-5n, 4294967295n]);
    expect(Array.from(parseNpy(rawNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(i8.buffer)), 'i.npy').data)).toEqual([
      -5, 4294967295,
    ]);
  });

  it('names the file and the key in every error', () => {
    const good = encodeNpy({ dtype: 'f4', shape: [2], data: new Float32Array(2) });
    expect(() => parseNpz(zipSync({ 'expr.npy': good.subarray(0, good.length - 3) }), 'p/00001.npz')).toThrow(
      'p/00001.npz: expr: expected 8 bytes of data for shape (2) <f4, got 5',
    );
    const npz = parseNpz(zipSync({ 'shape.npy': good }), 'p/00001.npz');
    expect(() => npzKey(npz, 'expr', 'p/00001.npz')).toThrow('p/00001.npz: expr: missing (keys present: shape)');
    expect(() => expectShape(npz.get('shape')!, [1, 300], 'p/00001.npz: shape')).toThrow('p/00001.npz: shape: expected shape (1, 300), got (2)');
    expect(() => parseNpz(new TextEncoder().encode('PK nonsense'), 'p/00002.npz')).toThrow('p/00002.npz: not a valid .npz (zip) archive');
    expect(() => parseNpz(zipSync({ 'x.npy': new TextEncoder().encode('hello') }), 'p/3.npz')).toThrow('p/3.npz: x: not a .npy array (bad magic)');
    expect(() => parseNpy(rawNpy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(16)), 'c.npy')).toThrow(
      "c.npy: unsupported dtype '<c16'",
    );
  });
});
