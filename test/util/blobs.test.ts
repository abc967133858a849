/** Checkpoint blobs: the packed layout both checkpoints write, and the reconstruction's older raw layout. */
import { describe, expect, it } from 'vitest';
import { blobOf, packBlobs, unpackBlobs, type Blobs } from '../../lib/util/blobs.js';
import { adamFromBlobs, adamToBlobs, type AdamState } from '../../lib/train/adam.js';
import { reconCheckpointBlobs } from '../../lib/train/recon.js';

const f32 = (...v: number[]) => Float32Array.from(v);

describe('packBlobs / unpackBlobs', () => {
  it('round-trips named arrays bit for bit, with the floats 4-byte aligned', () => {
    const parts: Blobs = {
      'm/xyz': { shape: [2, 3], data: f32(1, -2, 3.5, 1e-30, -0, Number.MAX_VALUE) },
      a: { shape: [1], data: f32(Math.PI) },
      empty: { shape: [0], data: f32() },
    };
    const bytes = packBlobs(parts);
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect((4 + n) % 4).toBe(0);
    expect(bytes.length).toBe(4 + n + 4 * 7);
    const back = unpackBlobs(bytes, 'x.bin');
    expect(Object.keys(back)).toEqual(['m/xyz', 'a', 'empty']);
    for (const k of Object.keys(parts)) {
      expect(back[k]!.shape).toEqual(parts[k]!.shape);
      expect(new Uint32Array(back[k]!.data.buffer, back[k]!.data.byteOffset, back[k]!.data.length)).toEqual(new Uint32Array(parts[k]!.data.buffer));
    }
  });

  it('names the file and the fault', () => {
    expect(() => packBlobs({ a: { shape: [2, 2], data: f32(1, 2, 3) } })).toThrow(/a: shape \[2, 2\] holds 4 values, data has 3/);
    const bytes = packBlobs({ a: { shape: [3], data: f32(1, 2, 3) } });
    expect(() => unpackBlobs(bytes.subarray(0, bytes.length - 4), 'opt.bin')).toThrow(/opt\.bin: a runs past the end of the file/);
    expect(() => unpackBlobs(new Uint8Array(f32(1, 2, 3).buffer), 'raw.bin')).toThrow(/raw\.bin: corrupt index/);
    expect(() => blobOf(unpackBlobs(bytes, 'opt.bin'), 'b', 'opt.bin')).toThrow("opt.bin: no 'b' array");
    expect(() => blobOf(unpackBlobs(bytes, 'opt.bin'), 'a', 'opt.bin', 4)).toThrow("opt.bin: 'a' holds 3 values, expected 4");
  });
});

describe('checkpoint optimiser state', () => {
  const adam: AdamState = {
    options: { beta1: 0.9, beta2: 0.999, eps: 1e-15 },
    groups: {
      xyz: { step: 7, shape: [2, 3], m: f32(1, 2, 3, 4, 5, 6), v: f32(6, 5, 4, 3, 2, 1) },
      opacity: { step: 3, shape: [2, 1], m: f32(0.5, -0.5), v: f32(0.25, 0.125) },
    },
  };
  const stats = { gradAccum: f32(1, 2), denom: f32(3, 4), maxRadii2D: f32(5, 6) };

  it('Adam state survives adamToBlobs → packBlobs → unpackBlobs → adamFromBlobs', () => {
    const a = adamToBlobs(adam);
    expect(a.moments).toEqual({ xyz: { step: 7, shape: [2, 3] }, opacity: { step: 3, shape: [2, 1] } });
    const back = adamFromBlobs(a.options, a.moments, unpackBlobs(packBlobs(a.blobs), 'o.bin'), 'o.bin');
    expect(back).toEqual(adam);
    expect(() => adamFromBlobs(a.options, { ...a.moments, scale: { step: 1, shape: [2, 3] } }, a.blobs, 'o.bin')).toThrow("o.bin: no 'm/scale' array");
  });

  it('reads a reconstruction checkpoint in the packed layout and in the older raw one to the same blobs', () => {
    const a = adamToBlobs(adam);
    const blobs: Blobs = {
      ...a.blobs,
      'stats/gradAccum': { shape: [2], data: stats.gradAccum },
      'stats/denom': { shape: [2], data: stats.denom },
      'stats/maxRadii2D': { shape: [2], data: stats.maxRadii2D },
    };
    const packed = reconCheckpointBlobs(packBlobs(blobs), 'p.bin', a.moments, 2);
    // The raw layout: each group's m then v in state.json's order, then gradAccum, denom, maxRadii2D.
    const raw = f32(...adam.groups.xyz!.m, ...adam.groups.xyz!.v, ...adam.groups.opacity!.m, ...adam.groups.opacity!.v, 1, 2, 3, 4, 5, 6);
    const legacy = reconCheckpointBlobs(new Uint8Array(raw.buffer), 'r.bin', a.moments, 2);
    expect(legacy).toEqual(packed);
    expect(adamFromBlobs(a.options, a.moments, legacy, 'r.bin')).toEqual(adam);
    expect(legacy['stats/maxRadii2D']!.data).toEqual(f32(5, 6));
    // One float short is neither layout: the packed reader names the file.
    expect(() => reconCheckpointBlobs(new Uint8Array(raw.buffer, 0, raw.byteLength - 4), 'r.bin', a.moments, 2)).toThrow(/r\.bin/);
  });
});
