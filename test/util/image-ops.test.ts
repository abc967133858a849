import { describe, expect, it } from 'vitest';
import { cropImage, downsample, rgbImage, upscale } from '../../lib/util/image.js';

const img = (w: number, h: number) => {
  const m = rgbImage(w, h);
  for (let i = 0; i < m.data.length; i++) m.data[i] = ((i * 29) % 97) / 96;
  return m;
};

describe('image operations', () => {
  it('downsample averages each factor×factor block (edge blocks over the pixels they have), in float64', () => {
    const a = img(7, 5);
    const d = downsample(a, 3);
    expect([d.width, d.height]).toEqual([3, 2]);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        for (let k = 0; k < 3; k++) {
          let s = 0,
            n = 0;
          for (let yy = 3 * y; yy < Math.min(5, 3 * y + 3); yy++)
            for (let xx = 3 * x; xx < Math.min(7, 3 * x + 3); xx++) {
              s += a.data[3 * (yy * 7 + xx) + k]!;
              n++;
            }
          expect(d.data[3 * (y * 3 + x) + k]).toBeCloseTo(s / n, 6);
        }
      }
    }
    expect(downsample(a, 1)).toBe(a);
    expect(() => downsample(a, 1.5)).toThrow('downsample: factor must be a positive integer, got 1.5');
  });

  it('cropImage copies the box exactly and refuses boxes outside the image', () => {
    const a = img(7, 5);
    const c = cropImage(a, { x: 2, y: 1, width: 4, height: 3 });
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 4; x++) for (let k = 0; k < 3; k++) expect(c.data[3 * (y * 4 + x) + k]).toBe(a.data[3 * ((y + 1) * 7 + x + 2) + k]);
    expect(() => cropImage(a, { x: 4, y: 0, width: 4, height: 1 })).toThrow('cropImage: box 4x1+4+0 is not inside the 7x5 image');
  });

  it('upscale replicates each pixel into a factor×factor block', () => {
    const a = img(3, 2);
    const u = upscale(a, 4);
    expect([u.width, u.height]).toEqual([12, 8]);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 12; x++)
        for (let k = 0; k < 3; k++) expect(u.data[3 * (y * 12 + x) + k]).toBe(a.data[3 * (Math.floor(y / 4) * 3 + Math.floor(x / 4)) + k]);
    expect(() => upscale(a, 0)).toThrow('upscale: factor must be a positive integer');
  });
});
