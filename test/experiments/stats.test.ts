import { describe, expect, it } from 'vitest';
import { studentTCdf, studentTQuantile, summarize } from '../../lib/experiments/stats.js';

describe('Student t', () => {
  it('matches closed forms (df 1: Cauchy, df 2) and table values', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(Math.tan(0.475 * Math.PI), 8);
    const p = 0.975;
    expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 9);
    const table: [number, number][] = [[3, 3.182], [4, 2.776], [9, 2.262], [29, 2.045], [1000, 1.962]];
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
