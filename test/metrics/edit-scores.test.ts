import { describe, expect, it } from 'vitest';
import { Region } from '../../lib/head/regions.js';
import { editFrameSums, editScores, guardedRegions, poolEditSums, residualFlicker } from '../../lib/metrics/edit-scores.js';

const img = (px: [number, number, number][]) => ({ width: px.length, height: 1, data: Float64Array.from(px.flat()) as unknown as Float32Array });

describe('guarded regions', () => {
  it('names the teeth under a skin edit and the lips under gold teeth, never an edited region', () => {
    expect(guardedRegions([Region.skin])).toContain(Region.teeth);
    expect(guardedRegions([Region.teeth])).toEqual([Region.lips, Region.tongue]);
    expect(guardedRegions([Region.skin, Region.lips])).not.toContain(Region.lips);
  });
});

describe('edit scores on known pixels', () => {
  // Pixels: background, skin, teeth, lips. Gold-teeth edit: teeth edited, lips (and tongue) guarded.
  const labels = [Region.background, Region.skin, Region.teeth, Region.lips];
  const captured = img([
    [1, 1, 1],
    [0.8, 0.6, 0.5],
    [0.9, 0.9, 0.9],
    [0.7, 0.2, 0.2],
  ]);
  const gt = img([
    [1, 1, 1],
    [0.8, 0.6, 0.5],
    [0.9, 0.7, 0.2],
    [0.7, 0.2, 0.2],
  ]); // only the teeth change
  const unedited = img([
    [1, 1, 1],
    [0.8, 0.6, 0.4],
    [0.85, 0.85, 0.85],
    [0.7, 0.2, 0.2],
  ]);
  // Half way to gold on the teeth, the lips tinted by 0.06 in red, the skin changed by 0.1 in blue.
  const edited = img([
    [1, 1, 1],
    [0.8, 0.6, 0.5],
    [0.85, 0.75, 0.5],
    [0.76, 0.2, 0.2],
  ]);

  it('leakage, preservation and strength as defined', () => {
    const s = editFrameSums({ edited, unedited, captured, gt, labels }, [Region.teeth]);
    const e = editScores(s);
    expect(e.leakage).toBeCloseTo(0.02, 12); // lips: |0.06| / 3
    expect(e.leakageRegions).toEqual({ lips: expect.closeTo(0.02, 12) });
    // Outside the edit, head pixels: skin (0.1 in one channel) and lips (0.06): MSE = (0.01 + 0.0036) / 6.
    expect(e.preservation).toBeCloseTo(-10 * Math.log10((0.01 + 0.0036) / 6), 10);
    // Teeth: R − O = (0, −0.1, −0.35), G − C = (0, −0.2, −0.7): exactly half the ground-truth change.
    expect(e.editStrength).toBeCloseTo(0.5, 12);
    // No unedited avatar: only leakage.
    const noO = editScores(editFrameSums({ edited, unedited: null, captured, gt, labels }, [Region.teeth]));
    expect(noO.preservation).toBeNull();
    expect(noO.editStrength).toBeNull();
    expect(noO.leakage).toBeCloseTo(0.02, 12);
    // Pooling two identical frames changes nothing; an unedited render equal to R preserves exactly.
    expect(editScores(poolEditSums([s, s])).editStrength).toBeCloseTo(0.5, 12);
    expect(editScores(editFrameSums({ edited, unedited: edited, captured, gt, labels }, [Region.teeth])).preservation).toBe(Infinity);
    expect(() => editFrameSums({ edited, unedited, captured, gt, labels: [0, 1] }, [Region.teeth])).toThrow(/editFrameSums: an image is 4x1/);
  });

  it('flicker of the edit residual ignores what the unedited avatar shares, and the background', () => {
    const shift = (im: typeof edited, d: number) =>
      img(Array.from({ length: 4 }, (_, p) => [0, 1, 2].map((c) => im.data[3 * p + c]! + d) as [number, number, number]));
    // Both renders darkened by 0.2 (say, the head moved): the residual is unchanged.
    expect(residualFlicker({ edited, unedited, labels }, { edited: shift(edited, -0.2), unedited: shift(unedited, -0.2), labels })).toBeCloseTo(0, 12);
    // The edit alone brightened by 0.1 on the three head pixels.
    expect(residualFlicker({ edited, unedited, labels }, { edited: shift(edited, 0.1), unedited, labels })).toBeCloseTo(0.1, 12);
    expect(residualFlicker({ edited, unedited, labels: [0, 0, 0, 0] }, { edited, unedited, labels })).toBeNull();
  });
});
