import { describe, expect, it } from 'vitest';
import { stratifiedIndices, stratifiedSample } from '../../lib/data/sampling.js';

/** A split's frame list as the writer orders it: timestep-major, cameras inner. */
const grid = (cameras: number[], timesteps: number) => Array.from({ length: timesteps }, (_, t) => cameras.map((c) => ({ cameraIndex: c, timestep: t, id: `t${t}_c${c}` }))).flat();

const counts = (xs: number[]) => {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

describe('stratifiedSample', () => {
  // The full preset's training split: 13 training cameras (16 minus 3 held out) × 16 timesteps, 48 edit views.
  const cams = [0, 1, 2, 4, 5, 6, 7, 9, 10, 11, 13, 14, 15];
  const frames = grid(cams, 16);

  it('uses every camera and every timestep, each about equally often, with no frame twice', () => {
    for (const seed of [0, 1, 2]) {
      const s = stratifiedSample(frames, 48, seed);
      expect(s.length).toBe(48);
      expect(new Set(s.map((f) => f.id)).size).toBe(48);
      const c = counts(s.map((f) => f.cameraIndex));
      const t = counts(s.map((f) => f.timestep));
      expect([...c.keys()].sort((a, b) => a - b)).toEqual(cams);
      expect(t.size).toBe(16);
      // 48 / 13 = 3.7 per camera, 48 / 16 = 3 per timestep.
      expect(Math.min(...c.values())).toBeGreaterThanOrEqual(3);
      expect(Math.max(...c.values())).toBeLessThanOrEqual(4);
      expect([...t.values()].every((v) => v === 3)).toBe(true);
      // Any prefix of max(cameras, timesteps) frames already covers both axes.
      const head = s.slice(0, 16);
      expect(new Set(head.map((f) => f.cameraIndex)).size).toBe(13);
      expect(new Set(head.map((f) => f.timestep)).size).toBe(16);
    }
  });

  it('is what the old strided pick was not: that one saw 3 of 13 cameras', () => {
    // The rule the sampler replaces (evenly strided entries of the timestep-major list), for the record.
    const strided = Array.from({ length: 48 }, (_, i) => frames[Math.floor(((i + 0.5) * frames.length) / 48)]!);
    expect(new Set(strided.map((f) => f.cameraIndex)).size).toBe(3);
    expect(new Set(stratifiedSample(frames, 48, 0).map((f) => f.cameraIndex)).size).toBe(13);
  });

  it('is a seeded permutation: same seed same frames, other seeds other frames; all frames when n is 0 or too large', () => {
    const ids = (seed: number, n: number) => stratifiedSample(frames, n, seed).map((f) => f.id);
    expect(ids(5, 48)).toEqual(ids(5, 48));
    expect(ids(5, 48)).not.toEqual(ids(6, 48));
    for (const n of [0, frames.length, 1000]) {
      const all = ids(3, n);
      expect(all.length).toBe(frames.length);
      expect(new Set(all).size).toBe(frames.length);
    }
    expect(stratifiedIndices(frames, 5, 5)).toEqual(ids(5, 5).map((id) => frames.findIndex((f) => f.id === id)));
    expect(() => stratifiedSample(frames, 1.5, 0)).toThrow('stratifiedSample: n must be an integer, got 1.5');
  });

  it('covers every camera and timestep that a partial grid holds (mouth-open frames only)', () => {
    // Keep a pseudo-random 40% of a 6 × 30 grid, as a mouth-open filter would.
    const part = grid([0, 1, 3, 4, 5, 6], 30).filter((f) => (f.cameraIndex * 7 + f.timestep * 13) % 5 < 2);
    const s = stratifiedSample(part, 36, 1);
    expect(new Set(s.map((f) => f.cameraIndex))).toEqual(new Set(part.map((f) => f.cameraIndex)));
    expect(new Set(s.map((f) => f.timestep))).toEqual(new Set(part.map((f) => f.timestep)));
  });
});
