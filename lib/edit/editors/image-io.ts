/**
 * Image plumbing for editors: decoding what an endpoint answers (PNG or JPEG, sniffed from the bytes, since
 * hosted endpoints answer JPEG as often as PNG), resizing an answer back to the render's size (diffusion
 * models emit multiples of 8), and the 8-bit grid that every image crossing HTTP or the cache lands on.
 */
import jpeg from 'jpeg-js';
import { decodePng, type RgbImage } from '../../util/image.js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

const startsWith = (b: Uint8Array, magic: number[]) => magic.every((m, i) => b[i] === m);

export function imageFormat(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  if (startsWith(bytes, JPEG_MAGIC)) return 'jpeg';
  return null;
}

/** Decodes PNG or JPEG bytes to RGB in [0, 1]; `name` goes into the error. */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  const fmt = imageFormat(bytes);
  if (fmt === 'png') return decodePng(bytes, name).rgb;
  if (fmt === 'jpeg') {
    let raw: { width: number; height: number; data: Uint8Array };
    try {
      raw = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    } catch (e) {
      throw new Error(`${name}: not a valid JPEG (${(e as Error).message})`, { cause: e });
    }
    const n = raw.width * raw.height;
    const data = new Float32Array(n * 3);
    for (let p = 0; p < n; p++) {
      data[3 * p] = raw.data[4 * p]! / 255;
      data[3 * p + 1] = raw.data[4 * p + 1]! / 255;
      data[3 * p + 2] = raw.data[4 * p + 2]! / 255;
    }
    return { width: raw.width, height: raw.height, data };
  }
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(`${name}: neither PNG nor JPEG (${bytes.length} bytes, starting ${head || '<empty>'})`);
}

/** JPEG bytes of an image (the edit server can answer JPEG like hosted endpoints do). */
export function encodeJpeg(img: RgbImage, quality = 95): Uint8Array {
  const n = img.width * img.height;
  const rgba = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) rgba[4 * p + c] = Math.max(0, Math.min(255, Math.round(img.data[3 * p + c]! * 255)));
    rgba[4 * p + 3] = 255;
  }
  return jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality).data;
}

/** The image as PNG stores it: every value rounded to k/255 (what `encodePng` then `decodePng` gives). */
export function quantize8(img: RgbImage): RgbImage {
  const data = new Float32Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(img.data[i]! * 255))) / 255;
  return { width: img.width, height: img.height, data };
}

/**
 * Bilinear resize with pixel centres aligned (half-pixel convention), edges clamped. Downscaling by more
 * than 2x would alias; editors answer at (nearly) the request's size, so that case is only a fallback.
 */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return { width, height, data: img.data.slice() };
  const out = new Float32Array(width * height * 3);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const a = img.data[(y0 * img.width + x0) * 3 + c]!;
        const b = img.data[(y0 * img.width + x1) * 3 + c]!;
        const d = img.data[(y1 * img.width + x0) * 3 + c]!;
        const e = img.data[(y1 * img.width + x1) * 3 + c]!;
        out[(y * width + x) * 3 + c] = (1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * d + wx * e);
      }
    }
  }
  return { width, height, data: out };
}
