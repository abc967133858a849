import { describe, expect, it } from 'vitest';
import { clusterBootstrap, excludesZero, quantileSorted, studentTCdf, studentTQuantile, summarize } from '../../lib/experiments/stats.js';
import { pairedComparisons, type CellRecord } from '../../lib/experiments/results.js';
import { Rng } from '../../lib/util/random.js';

describe('Student t', () => {
  it('matches closed forms (df 1: Cauchy, df 2) and table values', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(Math.tan(0.475 * Math.PI), 8);
    const p = 0.975;
    expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 9);
    const table: [number, number][] = [
      [3, 3.182],
      [4, 2.776],
      [9, 2.262],
      [29, 2.045],
      [1000, 1.962],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 3);
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 14);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-studentTQuantile(0.975, 4), 12);
  });

  it('summarizes seeds with a t interval, and gives no interval for one seed', () => {
    const s = summarize([1, 2, 3, 4, null, NaN]);
    expect(s.n).toBe(4);
    expect(s.mean).toBeCloseTo(2.5, 14);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect(s.ci95).toBeCloseTo((3.182446305 * Math.sqrt(5 / 3)) / 2, 6);
    expect(summarize([0.5])).toEqual({ n: 1, mean: 0.5, sd: null, ci95: null });
    expect(summarize([null])).toEqual({ n: 0, mean: null, sd: null, ci95: null });
  });
});

describe('paired bootstrap', () => {
  // Standard normal draws in float64 (Box–Muller on a seeded generator).
  const normals = (n: number, seed: number, mu = 0, sigma = 1) => {
    const r = new Rng(seed);
    return Array.from({ length: n }, () => mu + sigma * r.normal());
  };

  it('gives the textbook interval of a mean for one cluster of iid normal values', () => {
    const xs = normals(2000, 3, 0.5, 2);
    const iv = clusterBootstrap([xs], { resamples: 4000, seed: 1 });
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    const half = (1.959964 * sd) / Math.sqrt(xs.length); // ≈ 0.088
    expect(iv.n).toBe(2000);
    expect(iv.mean).toBeCloseTo(mean, 12);
    expect(Math.abs((iv.hi! - iv.lo!) / 2 - half) / half).toBeLessThan(0.08);
    expect(Math.abs((iv.hi! + iv.lo!) / 2 - mean)).toBeLessThan(0.15 * half);
    expect(iv.lo! < 0.5 && iv.hi! > 0.5).toBe(true);
    // Seeded: the same data and seed give the same interval.
    expect(clusterBootstrap([xs], { resamples: 4000, seed: 1 })).toEqual(iv);
    expect(excludesZero(iv)).toBe(true);
    expect(excludesZero(clusterBootstrap([normals(200, 4)], { seed: 2 }))).toBe(false);
  });

  it('widens with the spread between clusters (seeds), which frame resampling alone would miss', () => {
    const clusters = [-1, 0, 1].map((mu, k) => normals(300, 10 + k, mu, 0.1));
    const two = clusterBootstrap(clusters, { seed: 3 });
    const flat = clusterBootstrap([clusters.flat()], { seed: 3 });
    expect(two.clusters).toBe(3);
    expect(flat.hi! - flat.lo!).toBeLessThan(0.2);
    expect(two.hi! - two.lo!).toBeGreaterThan(0.8);
    expect(clusterBootstrap([[], [NaN]])).toEqual({ n: 0, clusters: 0, mean: null, lo: null, hi: null });
    expect(quantileSorted([0, 10], 0.25)).toBe(2.5);
  });
});

describe('pairing arms by frame', () => {
  const cell = (method: string, seed: number, frames: Record<string, number | null>): CellRecord => ({
    grid: 'g',
    method,
    subject: 's',
    edit: 'e',
    seed,
    status: 'done',
    metrics: {},
    wallSeconds: 1,
    attempt: 1,
    error: null,
    notes: [],
    perFrame: { 'novel-view': Object.fromEntries(Object.entries(frames).map(([id, v]) => [id, { 'psnr/head': v }])) },
  });

  it('differences only frames both arms scored, in the same seed, by frame id', () => {
    const cells = [
      cell('ours', 0, { f1: 30, f2: 31, f3: 29, only_ours: 99 }),
      cell('base', 0, { f3: 28, f1: 29, f2: 30, only_base: 0 }), // other order: matched by id, not position
      cell('ours', 1, { f1: 20, f2: null }),
      cell('base', 1, { f1: 19, f2: 18 }),
      cell('base', 2, { f1: 0 }), // no partner seed in 'ours'
    ];
    const [p] = pairedComparisons(cells, { seed: 0 });
    expect(p).toMatchObject({ a: 'ours', b: 'base', task: 'novel-view', metric: 'psnr/head', n: 4, clusters: 2, mean: 1 });
    expect(p!.lo).toBe(1);
    expect(p!.hi).toBe(1);
  });
});
