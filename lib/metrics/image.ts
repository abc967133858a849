/**
 * Full-reference image metrics, PSNR and SSIM, on `RgbImage`s in [0, 1], accumulated in float64.
 *
 * Masks restrict a metric to a region: PSNR averages the squared error over the masked pixels; SSIM computes
 * the usual SSIM map over the whole image (so windows see the region's surroundings, as they would in an
 * unmasked evaluation) and averages the map over the masked window centres. Masks are per-pixel weights in
 * [0, 1] (a label mask is 0/1; soft coverage masks weight pixels by coverage).
 */
import type { RgbImage } from '../util/image.js';

export type Mask = ArrayLike<number>; // [H,W] weights in [0, 1]

export interface SsimOptions {
  /** Gaussian window side (odd). Default 11, as Wang et al. 2004. */
  windowSize?: number;
  /** Gaussian σ in pixels. Default 1.5. */
  sigma?: number;
  /** Dynamic range L. Default 1 (images in [0, 1]). */
  dataRange?: number;
  /** C1 = (k1 L)², C2 = (k2 L)². Defaults 0.01, 0.03. */
  k1?: number;
  k2?: number;
  /**
   * 'valid' (default): the map covers only pixels whose whole window lies inside the image, as the
   * reference MATLAB implementation and scikit-image do (a border of windowSize/2 px is dropped).
   * 'zero': same-size map with zero padding, as the 3DGS family's training loss (and their reported SSIM).
   */
  border?: 'valid' | 'zero';
  mask?: Mask;
}

export interface PsnrOptions {
  /** Peak value. Default 1. */
  dataRange?: number;
  mask?: Mask;
}

function checkPair(a: RgbImage, b: RgbImage, what: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`${what}: image sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`);
  }
  const n = a.width * a.height * 3;
  if (a.data.length !== n || b.data.length !== n) throw new Error(`${what}: data length does not match ${a.width}x${a.height}x3`);
}

function checkMask(mask: Mask | undefined, w: number, h: number, what: string): void {
  if (mask && mask.length !== w * h) throw new Error(`${what}: mask has ${mask.length} entries, expected ${w}x${h} = ${w * h}`);
}

/** Mean squared error over the (masked) pixels and all three channels; NaN for an empty mask. */
export function mse(a: RgbImage, b: RgbImage, mask?: Mask): number {
  checkPair(a, b, 'mse');
  checkMask(mask, a.width, a.height, 'mse');
  const n = a.width * a.height;
  let sum = 0;
  let weight = 0;
  for (let p = 0; p < n; p++) {
    const w = mask ? mask[p]! : 1;
    if (w <= 0) continue;
    let e = 0;
    for (let c = 0; c < 3; c++) {
      const d = a.data[3 * p + c]! - b.data[3 * p + c]!;
      e += d * d;
    }
    sum += w * e;
    weight += w;
  }
  return weight > 0 ? sum / (3 * weight) : NaN;
}

/** PSNR in dB: 10 log10(L² / MSE). Identical images give +Infinity; an empty mask gives NaN. */
export function psnr(a: RgbImage, b: RgbImage, opts: PsnrOptions = {}): number {
  const L = opts.dataRange ?? 1;
  const m = mse(a, b, opts.mask);
  if (Number.isNaN(m)) return NaN;
  if (m === 0) return Infinity;
  return 10 * Math.log10((L * L) / m);
}

/** Normalised 1D Gaussian taps of the given odd size. */
export function gaussianWindow(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new Error(`ssim: windowSize must be a positive odd integer, got ${size}`);
  if (!(sigma > 0)) throw new Error(`ssim: sigma must be positive, got ${sigma}`);
  const g = new Float64Array(size);
  const r = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
    s += g[i]!;
  }
  for (let i = 0; i < size; i++) g[i]! /= s;
  return g;
}

export interface SsimMap {
  /** SSIM per window centre, averaged over the three channels. */
  map: Float64Array; // [mapHeight, mapWidth]
  width: number;
  height: number;
  /** Offset of map pixel (0, 0) in image pixels (windowSize/2 for 'valid', 0 for 'zero'). */
  offset: number;
}

/**
 * The SSIM map (mean over RGB channels of the per-channel SSIM maps).
 *
 * Separable Gaussian filtering of the five moment planes (x, y, x², y², xy) per channel: the horizontal pass
 * reads the interleaved image directly and writes the five planes at once; the vertical pass accumulates whole
 * rows (cache-friendly) and turns each finished row into SSIM straight away, so no filtered plane is stored.
 * Every window sum adds its taps in tap order from zero, skipping taps outside the image ('zero'), in float64:
 * the same sums, in the same order, as filtering each plane on its own.
 */
export function ssimMap(a: RgbImage, b: RgbImage, opts: Omit<SsimOptions, 'mask'> = {}): SsimMap {
  checkPair(a, b, 'ssim');
  const size = opts.windowSize ?? 11;
  const g = gaussianWindow(size, opts.sigma ?? 1.5);
  const L = opts.dataRange ?? 1;
  const C1 = ((opts.k1 ?? 0.01) * L) ** 2;
  const C2 = ((opts.k2 ?? 0.03) * L) ** 2;
  const border = opts.border ?? 'valid';
  const { width: w, height: h } = a;
  if (border === 'valid' && (w < size || h < size)) {
    throw new Error(`ssim: image ${w}x${h} is smaller than the ${size}x${size} window (use border: 'zero' or a smaller window)`);
  }
  const k = size;
  const r = (k - 1) / 2;
  const mw = border === 'valid' ? w - k + 1 : w;
  const mh = border === 'valid' ? h - k + 1 : h;
  const off = border === 'valid' ? 0 : -r; // source coordinate of tap 0 for output 0
  const A = a.data;
  const B = b.data;
  // Horizontal pass output: five planes of mw × h.
  const hx = new Float64Array(mw * h);
  const hy = new Float64Array(mw * h);
  const hxx = new Float64Array(mw * h);
  const hyy = new Float64Array(mw * h);
  const hxy = new Float64Array(mw * h);
  // One output row of the vertical pass.
  const vx = new Float64Array(mw);
  const vy = new Float64Array(mw);
  const vxx = new Float64Array(mw);
  const vyy = new Float64Array(mw);
  const vxy = new Float64Array(mw);
  const acc = new Float64Array(mw * mh);
  // One source row's moments, contiguous (the image is interleaved RGB).
  const rx = new Float64Array(w);
  const ry = new Float64Array(w);
  const rxx = new Float64Array(w);
  const ryy = new Float64Array(w);
  const rxy = new Float64Array(w);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0, q = 3 * y * w + c; x < w; x++, q += 3) {
        const u = A[q]!;
        const v = B[q]!;
        rx[x] = u;
        ry[x] = v;
        rxx[x] = u * u;
        ryy[x] = v * v;
        rxy[x] = u * v;
      }
      const orow = y * mw;
      for (let x = 0; x < mw; x++) {
        const sx0 = x + off;
        const i0 = sx0 < 0 ? -sx0 : 0;
        const i1 = sx0 + k > w ? w - sx0 : k;
        let sX = 0,
          sY = 0,
          sXX = 0,
          sYY = 0,
          sXY = 0;
        for (let i = i0; i < i1; i++) {
          const gi = g[i]!;
          const q = sx0 + i;
          sX += gi * rx[q]!;
          sY += gi * ry[q]!;
          sXX += gi * rxx[q]!;
          sYY += gi * ryy[q]!;
          sXY += gi * rxy[q]!;
        }
        const o = orow + x;
        hx[o] = sX;
        hy[o] = sY;
        hxx[o] = sXX;
        hyy[o] = sYY;
        hxy[o] = sXY;
      }
    }
    for (let y = 0; y < mh; y++) {
      const sy0 = y + off;
      const i0 = sy0 < 0 ? -sy0 : 0;
      const i1 = sy0 + k > h ? h - sy0 : k;
      vx.fill(0);
      vy.fill(0);
      vxx.fill(0);
      vyy.fill(0);
      vxy.fill(0);
      for (let i = i0; i < i1; i++) {
        const gi = g[i]!;
        const base = (sy0 + i) * mw;
        for (let x = 0; x < mw; x++) {
          const q = base + x;
          vx[x] += gi * hx[q]!;
          vy[x] += gi * hy[q]!;
          vxx[x] += gi * hxx[q]!;
          vyy[x] += gi * hyy[q]!;
          vxy[x] += gi * hxy[q]!;
        }
      }
      const orow = y * mw;
      for (let x = 0; x < mw; x++) {
        const ux = vx[x]!;
        const uy = vy[x]!;
        const sxx = vxx[x]! - ux * ux;
        const syy = vyy[x]! - uy * uy;
        const sxy = vxy[x]! - ux * uy;
        acc[orow + x] += ((2 * ux * uy + C1) * (2 * sxy + C2)) / ((ux * ux + uy * uy + C1) * (sxx + syy + C2)) / 3;
      }
    }
  }
  return { map: acc, width: mw, height: mh, offset: border === 'valid' ? r : 0 };
}

/** Mean SSIM, over the whole map or over the masked window centres (NaN if the mask covers none). */
export function ssim(a: RgbImage, b: RgbImage, opts: SsimOptions = {}): number {
  checkMask(opts.mask, a.width, a.height, 'ssim');
  return meanSsim(ssimMap(a, b, opts), a.width, opts.mask);
}

/** Mean of an SSIM map over the window centres a mask (of the image, `imageWidth` wide) selects. */
export function meanSsim(m: SsimMap, imageWidth: number, mask?: Mask): number {
  let sum = 0;
  let weight = 0;
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      const wgt = mask ? mask[(y + m.offset) * imageWidth + x + m.offset]! : 1;
      if (wgt <= 0) continue;
      sum += wgt * m.map[y * m.width + x]!;
      weight += wgt;
    }
  }
  return weight > 0 ? sum / weight : NaN;
}
