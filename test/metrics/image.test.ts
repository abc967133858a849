import { describe, expect, it } from 'vitest';
import { mse, psnr, ssim, ssimMap } from '../../lib/metrics/image.js';
import { poolRegionScores, regionMask, regionMetrics } from '../../lib/metrics/regions.js';
import { Region } from '../../lib/head/regions.js';
import { rgbImage, type RgbImage } from '../../lib/util/image.js';
import { Rng } from '../../lib/util/random.js';

function randomImage(w: number, h: number, seed: number): RgbImage {
  const img = rgbImage(w, h);
  const rng = new Rng(seed);
  for (let i = 0; i < img.data.length; i++) img.data[i] = rng.next();
  return img;
}

/**
 * Independent SSIM: for every window centre, explicit weighted sums over the 2D window (no separable
 * filtering, no shared code), per channel, then the channel mean. 'zero' pads with zeros.
 */
function naiveSsimMap(a: RgbImage, b: RgbImage, border: 'valid' | 'zero'): { map: number[]; w: number; h: number; off: number } {
  const k = 11;
  const r = 5;
  const sigma = 1.5;
  const wts: number[][] = [];
  let tot = 0;
  for (let i = 0; i < k; i++) {
    wts.push([]);
    for (let j = 0; j < k; j++) {
      const v = Math.exp(-((i - r) ** 2 + (j - r) ** 2) / (2 * sigma * sigma));
      wts[i]!.push(v);
      tot += v;
    }
  }
  const C1 = 0.0001;
  const C2 = 0.0009;
  const W = a.width;
  const H = a.height;
  const off = border === 'valid' ? r : 0;
  const w = border === 'valid' ? W - 2 * r : W;
  const h = border === 'valid' ? H - 2 * r : H;
  const map: number[] = [];
  for (let cy = off; cy < off + h; cy++) {
    for (let cx = off; cx < off + w; cx++) {
      let s = 0;
      for (let c = 0; c < 3; c++) {
        let mx = 0,
          my = 0,
          xx = 0,
          yy = 0,
          xy = 0;
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < k; j++) {
            const y = cy + i - r;
            const x = cx + j - r;
            if (x < 0 || y < 0 || x >= W || y >= H) continue;
            const g = wts[i]![j]! / tot;
            const u = a.data[3 * (y * W + x) + c]!;
            const v = b.data[3 * (y * W + x) + c]!;
            mx += g * u;
            my += g * v;
            xx += g * u * u;
            yy += g * v * v;
            xy += g * u * v;
          }
        }
        const sx = xx - mx * mx,
          sy = yy - my * my,
          sxy = xy - mx * my;
        s += ((2 * mx * my + C1) * (2 * sxy + C2)) / ((mx * mx + my * my + C1) * (sx + sy + C2));
      }
      map.push(s / 3);
    }
  }
  return { map, w, h, off };
}

describe('PSNR', () => {
  it('is 20 dB for a ±0.1 checkerboard error and +Infinity for identical images', () => {
    const a = rgbImage(8, 6, [0.5, 0.5, 0.5]);
    const b = rgbImage(8, 6);
    for (let p = 0; p < 48; p++) for (let c = 0; c < 3; c++) b.data[3 * p + c] = 0.5 + ((p + c) % 2 ? 0.1 : -0.1);
    expect(psnr(a, b)).toBeCloseTo(20, 5);
    expect(psnr(a, a)).toBe(Infinity);
    // Data range 255 on values scaled by 255 gives the same dB.
    const s = (img: RgbImage) => ({ ...img, data: img.data.map((v) => v * 255) });
    expect(psnr(s(a), s(b), { dataRange: 255 })).toBeCloseTo(20, 4);
  });

  it('counts only masked pixels, weighted by the mask', () => {
    const a = rgbImage(4, 1, [0, 0, 0]);
    const b = rgbImage(4, 1, [0, 0, 0]);
    b.data.set([0.1, 0.1, 0.1], 0); // pixel 0: error 0.1
    b.data.set([0.5, 0.5, 0.5], 3 * 3); // pixel 3: error 0.5
    expect(psnr(a, b, { mask: [1, 1, 1, 0] })).toBeCloseTo(10 * Math.log10(3 / Math.fround(0.1) ** 2), 6);
    expect(psnr(a, b, { mask: [0, 1, 1, 0] })).toBe(Infinity);
    expect(psnr(a, b, { mask: [0, 0, 0, 0] })).toBeNaN();
    // Weights: 0.5·0.01 + 1·0.25 over weight 1.5
    expect(mse(a, b, [0.5, 0, 0, 1])).toBeCloseTo((0.5 * Math.fround(0.1) ** 2 + 0.25) / 1.5, 9);
  });

  it('rejects mismatched sizes and masks, naming the problem', () => {
    expect(() => psnr(rgbImage(2, 2), rgbImage(3, 2))).toThrow(/sizes differ/);
    expect(() => psnr(rgbImage(2, 2), rgbImage(2, 2), { mask: [1, 1] })).toThrow(/mask has 2 entries/);
  });
});

describe('SSIM', () => {
  it('is 1 for identical images', () => {
    const a = randomImage(24, 20, 1);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    expect(ssim(a, a, { border: 'zero' })).toBeCloseTo(1, 12);
  });

  it('matches the closed form for two constant images', () => {
    const [u, v] = [Math.fround(0.3), Math.fround(0.7)];
    const a = rgbImage(16, 16, [u, u, u]);
    const b = rgbImage(16, 16, [v, v, v]);
    const C1 = 0.0001;
    expect(ssim(a, b)).toBeCloseTo((2 * u * v + C1) / (u * u + v * v + C1), 10);
  });

  it('matches an independent direct-window float64 implementation (valid and zero borders)', () => {
    const a = randomImage(19, 15, 2);
    const b = randomImage(19, 15, 3);
    // Make b correlated with a so SSIM is far from 0.
    for (let i = 0; i < b.data.length; i++) b.data[i] = 0.7 * a.data[i]! + 0.3 * b.data[i]!;
    for (const border of ['valid', 'zero'] as const) {
      const ref = naiveSsimMap(a, b, border);
      const m = ssimMap(a, b, { border });
      expect([m.width, m.height, m.offset]).toEqual([ref.w, ref.h, ref.off]);
      for (let i = 0; i < ref.map.length; i++) expect(m.map[i]).toBeCloseTo(ref.map[i]!, 12);
      const mean = ref.map.reduce((s, x) => s + x, 0) / ref.map.length;
      expect(ssim(a, b, { border })).toBeCloseTo(mean, 12);
      expect(mean).toBeGreaterThan(0.3);
      expect(mean).toBeLessThan(0.99);
      // Masked: the mean of the map over the masked window centres.
      const mask = new Float32Array(19 * 15);
      for (let y = 0; y < 15; y++) for (let x = 0; x < 19; x++) mask[y * 19 + x] = x > 8 && y < 9 ? 1 : 0;
      let s = 0,
        n = 0;
      for (let y = 0; y < ref.h; y++)
        for (let x = 0; x < ref.w; x++) {
          if (mask[(y + ref.off) * 19 + x + ref.off]) {
            s += ref.map[y * ref.w + x]!;
            n++;
          }
        }
      expect(n).toBeGreaterThan(0);
      expect(ssim(a, b, { border, mask })).toBeCloseTo(s / n, 12);
    }
  });

  it('refuses an image smaller than the window in valid mode', () => {
    expect(() => ssim(rgbImage(8, 8), rgbImage(8, 8))).toThrow(/smaller than the 11x11 window/);
  });
});

describe('region metrics', () => {
  it('localises an error to the region it is in', () => {
    const w = 24,
      h = 24;
    const labels = new Uint8Array(w * h); // background
    for (let y = 4; y < 20; y++) for (let x = 4; x < 20; x++) labels[y * w + x] = Region.skin;
    for (let y = 14; y < 18; y++) for (let x = 8; x < 16; x++) labels[y * w + x] = Region.lips;
    for (let y = 15; y < 17; y++) for (let x = 10; x < 14; x++) labels[y * w + x] = Region.teeth;
    const ref = randomImage(w, h, 4);
    const out = { ...ref, data: ref.data.slice() };
    // Error 0.2 on every channel of the lips only.
    for (let p = 0; p < w * h; p++) if (labels[p] === Region.lips) for (let c = 0; c < 3; c++) out.data[3 * p + c] = ref.data[3 * p + c]! + 0.2;
    const r = regionMetrics(out, ref, labels);
    const lipsPx = 8 * 4 - 4 * 2;
    expect(r.lips!.pixels).toBe(lipsPx);
    expect(r.lips!.psnr).toBeCloseTo(10 * Math.log10(1 / 0.04), 4);
    expect(r.skin!.psnr).toBe(Infinity);
    expect(r.mouthInterior!.psnr).toBe(Infinity);
    expect(r.eyes!.pixels).toBe(0);
    expect(r.eyes!.psnr).toBeNaN();
    expect(r.eyes!.ssim).toBeNaN();
    expect(r.head!.psnr).toBeCloseTo(10 * Math.log10((16 * 16) / (lipsPx * 0.04)), 4);
    expect(r.image!.psnr).toBeCloseTo(10 * Math.log10((w * h) / (lipsPx * 0.04)), 4);
    expect(r.lips!.ssim).toBeLessThan(r.skin!.ssim);
    expect(r.head!.ssim).toBeCloseTo(ssim(out, ref, { mask: regionMask(labels, [1, 2, 3, 4, 5, 6]) }), 12);
  });

  it('equals masking each group in turn (psnr and meanSsim of the SSIM map), for every group and border', () => {
    const w = 53,
      h = 37;
    const rng = new Rng(7);
    const labels = new Uint8Array(w * h);
    for (let p = 0; p < w * h; p++) labels[p] = Math.floor(rng.next() * 7);
    // Blobs so that regions have SSIM windows of their own, plus a region (eyes) kept absent.
    for (let y = 10; y < 25; y++) for (let x = 12; x < 40; x++) labels[y * w + x] = (x + y) % 3 === 0 ? Region.lips : Region.skin;
    for (let p = 0; p < w * h; p++) if (labels[p] === Region.eyes) labels[p] = Region.hair;
    const ref = randomImage(w, h, 8);
    const out = randomImage(w, h, 9);
    for (let i = 0; i < out.data.length; i++) out.data[i] = 0.8 * ref.data[i]! + 0.2 * out.data[i]!;
    for (const border of ['valid', 'zero'] as const) {
      const r = regionMetrics(out, ref, labels, { ssim: { border } });
      expect(r.image!.psnr).toBe(psnr(out, ref));
      expect(r.image!.ssim).toBe(ssim(out, ref, { border }));
      for (const [name, ids] of Object.entries({ head: [1, 2, 3, 4, 5, 6], mouthInterior: [3, 4], eyes: [5], skin: [1], lips: [2] })) {
        const mask = regionMask(labels, ids);
        const pixels = mask.reduce((a, b) => a + b, 0);
        expect(r[name]!.pixels).toBe(pixels);
        if (pixels === 0) {
          expect(r[name]!.psnr).toBeNaN();
          expect(r[name]!.ssim).toBeNaN();
          continue;
        }
        expect(r[name]!.psnr).toBeCloseTo(psnr(out, ref, { mask }), 10);
        expect(r[name]!.ssim).toBeCloseTo(ssim(out, ref, { border, mask }), 12);
      }
    }
  });

  it('pools frames by pixels, and rejects labels that are not region ids', () => {
    const pooled = poolRegionScores([
      { lips: { psnr: 20, ssim: 0.5, pixels: 100 } }, // mse 0.01
      { lips: { psnr: 30, ssim: 0.9, pixels: 300 } }, // mse 0.001
      { lips: { psnr: NaN, ssim: NaN, pixels: 0 } },
    ]);
    expect(pooled.lips!.psnr).toBeCloseTo(10 * Math.log10(400 / (100 * 0.01 + 300 * 0.001)), 9);
    expect(pooled.lips!.ssim).toBeCloseTo((50 + 270) / 400, 12);
    expect(() => regionMetrics(rgbImage(11, 11), rgbImage(11, 11), new Uint8Array(121).fill(9))).toThrow(/label 9 at pixel 0/);
  });
});
