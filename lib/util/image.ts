/**
 * The workbench's image type and PNG I/O. Images are float RGB in [0, 1], row-major, channels last,
 * the layout the rasterizer writes and tfjs tensors of shape [H, W, 3] hold.
 */
import { promises as fs } from 'node:fs';
import { PNG } from 'pngjs';
import { writeFileAtomic } from './atomic.js';

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
  for (let p = 0; p < width * height; p++) data.set(fill, p * 3);
  return { width, height, data };
}

const to8 = (v: number) => Math.max(0, Math.min(255, Math.round(v * 255)));

/** Encodes RGB (and an optional alpha channel in [0, 1]) as an 8-bit PNG. */
export function encodePng(img: RgbImage, alpha?: Float32Array): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 6 });
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    png.data[4 * p] = to8(img.data[3 * p]!);
    png.data[4 * p + 1] = to8(img.data[3 * p + 1]!);
    png.data[4 * p + 2] = to8(img.data[3 * p + 2]!);
    png.data[4 * p + 3] = alpha ? to8(alpha[p]!) : 255;
  }
  return PNG.sync.write(png);
}

/** Encodes a single-channel image; `scale` maps values to [0, 1] (labels: scale 1/255 keeps ids exact). */
export function encodeGrayPng(img: GrayImage, scale = 1): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const buf = Buffer.alloc(img.width * img.height);
  for (let p = 0; p < buf.length; p++) buf[p] = to8(img.data[p]! * scale);
  return PNG.sync.write(Object.assign(png, { data: buf }), { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

export async function writePng(file: string, img: RgbImage, alpha?: Float32Array): Promise<void> {
  await writeFileAtomic(file, encodePng(img, alpha));
}

export async function writeGrayPng(file: string, img: GrayImage, scale = 1): Promise<void> {
  await writeFileAtomic(file, encodeGrayPng(img, scale));
}

export interface DecodedPng {
  rgb: RgbImage;
  alpha: Float32Array; // [H,W] in [0, 1]
  /** The first channel as raw 0..255 values (label maps). */
  raw0: Uint8Array;
}

export function decodePng(bytes: Uint8Array, name = '<buffer>'): DecodedPng {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes));
  } catch (e) {
    throw new Error(`${name}: not a valid PNG (${(e as Error).message})`);
  }
  const n = png.width * png.height;
  const rgb = new Float32Array(n * 3);
  const alpha = new Float32Array(n);
  const raw0 = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    rgb[3 * p] = png.data[4 * p]! / 255;
    rgb[3 * p + 1] = png.data[4 * p + 1]! / 255;
    rgb[3 * p + 2] = png.data[4 * p + 2]! / 255;
    alpha[p] = png.data[4 * p + 3]! / 255;
    raw0[p] = png.data[4 * p]!;
  }
  return { rgb: { width: png.width, height: png.height, data: rgb }, alpha, raw0 };
}

export async function readPng(file: string): Promise<DecodedPng> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodePng(bytes, file);
}
