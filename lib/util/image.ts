/**
 * The workbench's image type and PNG I/O. Images are float RGB in [0, 1], row-major, channels last,
 * the layout the rasterizer writes and tfjs tensors of shape [H, W, 3] hold.
 */
import { promises as fs } from 'node:fs';
import { PNG } from 'pngjs';
import { writeFileAtomic } from './atomic.js';
import { decodePng8, encodePng8, encodePng8Sync, toBytes, type Png8 } from './png.js';

export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array; // [H,W,3] RGB in [0, 1]
}

/** A single-channel image: masks (coverage in [0, 1]), depth (metres), labels (small integers). */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array; // [H,W]
}

export function rgbImage(width: number, height: number, fill: [number, number, number] = [0, 0, 0]): RgbImage {
  const data = new Float32Array(width * height * 3);
  // Plain stores: a `set` call per pixel cost ~50 ns, 0.25 s for a figure grid.
  const [r, g, b] = fill;
  if (r !== 0 || g !== 0 || b !== 0) {
    for (let i = 0; i < data.length; i += 3) {
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
    }
  }
  return { width, height, data };
}

const to8 = (v: number) => Math.max(0, Math.min(255, Math.round(v * 255)));

/**
 * Encodes RGB (and an optional alpha channel in [0, 1]) as an 8-bit PNG. Without alpha the file is 8-bit RGB
 * (colour type 2), about 15% smaller than RGBA with a constant alpha; decoders still read alpha = 1.
 * Rows use the Sub filter and zlib level 4 (lib/util/png.ts): on an 802×550 render with a little noise,
 * 37 ms against 190 ms at level 6 for a file 6% larger (pngjs's five-filter search at level 9 took longer
 * still); the decoded values are the same.
 */
export function encodePng(img: RgbImage, alpha?: Float32Array): Buffer {
  return alpha
    ? encodePng8Sync(img.width, img.height, 4, rgbaBytes(img, alpha), PNG_LEVEL)
    : encodePng8Sync(img.width, img.height, 3, toBytes(img.data), PNG_LEVEL);
}

const PNG_LEVEL = 4;

function rgbaBytes(img: RgbImage, alpha: Float32Array): Uint8Array {
  const n = img.width * img.height;
  const buf = new Uint8Array(4 * n);
  for (let p = 0; p < n; p++) {
    buf[4 * p] = to8(img.data[3 * p]!);
    buf[4 * p + 1] = to8(img.data[3 * p + 1]!);
    buf[4 * p + 2] = to8(img.data[3 * p + 2]!);
    buf[4 * p + 3] = to8(alpha[p]!);
  }
  return buf;
}

/** Encodes a single-channel image; `scale` maps values to [0, 1] (labels: scale 1/255 keeps ids exact). */
export function encodeGrayPng(img: GrayImage, scale = 1): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const buf = Buffer.alloc(img.width * img.height);
  for (let p = 0; p < buf.length; p++) buf[p] = to8(img.data[p]! * scale);
  return PNG.sync.write(Object.assign(png, { data: buf }), { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** Writes an 8-bit PNG; the compression runs on Node's thread pool, off the main thread. */
export async function writePng(file: string, img: RgbImage, alpha?: Float32Array): Promise<void> {
  const bytes = alpha
    ? await encodePng8(img.width, img.height, 4, rgbaBytes(img, alpha), PNG_LEVEL)
    : await encodePng8(img.width, img.height, 3, toBytes(img.data), PNG_LEVEL);
  await writeFileAtomic(file, bytes);
}

export async function writeGrayPng(file: string, img: GrayImage, scale = 1): Promise<void> {
  await writeFileAtomic(file, encodeGrayPng(img, scale));
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Width and height from an image's header, without decoding it: PNG (IHDR, bytes 16–23) and JPEG (the first
 * SOFn marker). Null when the bytes are neither or the header is cut short. Used to refuse images of the
 * wrong size on dataset open, and oversized images before they are decoded (the edit server).
 */
export function imageHeaderSize(b: Uint8Array): { width: number; height: number } | null {
  if (b.length >= 24 && PNG_SIGNATURE.every((x, i) => b[i] === x)) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1]!;
      const len = (b[i + 2]! << 8) | b[i + 3]!;
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: (b[i + 5]! << 8) | b[i + 6]!, width: (b[i + 7]! << 8) | b[i + 8]! };
      }
      i += 2 + len;
    }
  }
  return null;
}

/** A PNG file's size from its header (reads 24 bytes); errors name the file. */
export async function pngFileSize(file: string): Promise<{ width: number; height: number }> {
  let bytes: Uint8Array;
  try {
    const h = await fs.open(file, 'r');
    try {
      const buf = Buffer.alloc(24);
      const { bytesRead } = await h.read(buf, 0, 24, 0);
      bytes = buf.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  const size = imageHeaderSize(bytes);
  if (!size || bytes[0] !== 0x89) throw new Error(`${file}: not a PNG file`);
  return size;
}

export interface DecodedPng {
  rgb: RgbImage;
  alpha: Float32Array; // [H,W] in [0, 1]
  /** The first channel as raw 0..255 values (label maps). */
  raw0: Uint8Array;
}

export function decodePng(bytes: Uint8Array, name = '<buffer>'): DecodedPng {
  let fast: Png8 | null;
  try {
    fast = decodePng8(bytes);
  } catch (e) {
    throw new Error(`${name}: not a valid PNG (${(e as Error).message})`, { cause: e });
  }
  if (fast) return fromPng8(fast);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes));
  } catch (e) {
    throw new Error(`${name}: not a valid PNG (${(e as Error).message})`, { cause: e });
  }
  return fromPng8({ width: png.width, height: png.height, channels: 4, pixels: png.data });
}

/**
 * Floats from 8-bit pixels, as pngjs expands them to RGBA: gray to R = G = B, a missing alpha to 255. One loop
 * per channel count, each over a Uint8Array only: a single loop that branched on the layout, fed both Buffers
 * and Uint8Arrays, ran at a quarter of the speed.
 */
function fromPng8(png: Png8): DecodedPng {
  const n = png.width * png.height;
  const rgb = new Float32Array(n * 3);
  const alpha = new Float32Array(n);
  const raw0 = new Uint8Array(n);
  const d = new Uint8Array(png.pixels.buffer, png.pixels.byteOffset, png.pixels.byteLength);
  if (png.channels === 3) rgbFrom3(d, n, rgb, alpha, raw0);
  else if (png.channels === 4) rgbFrom4(d, n, rgb, alpha, raw0);
  else grayFrom(d, n, png.channels, rgb, alpha, raw0);
  return { rgb: { width: png.width, height: png.height, data: rgb }, alpha, raw0 };
}

function rgbFrom3(d: Uint8Array, n: number, rgb: Float32Array, alpha: Float32Array, raw0: Uint8Array): void {
  for (let i = 0; i < 3 * n; i++) rgb[i] = d[i]! / 255;
  alpha.fill(1);
  for (let p = 0; p < n; p++) raw0[p] = d[3 * p]!;
}

function rgbFrom4(d: Uint8Array, n: number, rgb: Float32Array, alpha: Float32Array, raw0: Uint8Array): void {
  for (let p = 0; p < n; p++) {
    rgb[3 * p] = d[4 * p]! / 255;
    rgb[3 * p + 1] = d[4 * p + 1]! / 255;
    rgb[3 * p + 2] = d[4 * p + 2]! / 255;
    alpha[p] = d[4 * p + 3]! / 255;
    raw0[p] = d[4 * p]!;
  }
}

function grayFrom(d: Uint8Array, n: number, ch: number, rgb: Float32Array, alpha: Float32Array, raw0: Uint8Array): void {
  for (let p = 0; p < n; p++) {
    const v = d[ch * p]!;
    const g = v / 255;
    rgb[3 * p] = g;
    rgb[3 * p + 1] = g;
    rgb[3 * p + 2] = g;
    alpha[p] = ch === 2 ? d[2 * p + 1]! / 255 : 1;
    raw0[p] = v;
  }
}

export async function readPng(file: string): Promise<DecodedPng> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  return decodePng(bytes, file);
}

/** Box-filter downsampling by an integer factor (edge blocks average the pixels they have). */
export function downsample(img: RgbImage, factor: number): RgbImage {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`downsample: factor must be a positive integer, got ${factor}`);
  if (factor === 1) return img;
  const w = Math.ceil(img.width / factor),
    h = Math.ceil(img.height / factor);
  const out = rgbImage(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0,
        g = 0,
        b = 0,
        n = 0;
      for (let yy = y * factor; yy < Math.min(img.height, (y + 1) * factor); yy++) {
        for (let xx = x * factor; xx < Math.min(img.width, (x + 1) * factor); xx++) {
          const s = 3 * (yy * img.width + xx);
          r += img.data[s]!;
          g += img.data[s + 1]!;
          b += img.data[s + 2]!;
          n++;
        }
      }
      out.data.set([r / n, g / n, b / n], 3 * (y * w + x));
    }
  }
  return out;
}

/** A copy of the box (x, y, width, height in pixels; must lie inside the image). */
export function cropImage(img: RgbImage, box: { x: number; y: number; width: number; height: number }): RgbImage {
  const { x, y, width, height } = box;
  if (![x, y, width, height].every(Number.isInteger) || width < 1 || height < 1 || x < 0 || y < 0 || x + width > img.width || y + height > img.height) {
    throw new Error(`cropImage: box ${width}x${height}+${x}+${y} is not inside the ${img.width}x${img.height} image`);
  }
  const out = rgbImage(width, height);
  for (let r = 0; r < height; r++) out.data.set(img.data.subarray(3 * ((y + r) * img.width + x), 3 * ((y + r) * img.width + x + width)), 3 * r * width);
  return out;
}

/** Nearest-neighbour enlargement by an integer factor (close-ups that keep pixels visible as pixels). */
export function upscale(img: RgbImage, factor: number): RgbImage {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`upscale: factor must be a positive integer, got ${factor}`);
  const out = rgbImage(img.width * factor, img.height * factor);
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const s = 3 * (Math.floor(y / factor) * img.width + Math.floor(x / factor));
      out.data.set(img.data.subarray(s, s + 3), 3 * (y * out.width + x));
    }
  }
  return out;
}
