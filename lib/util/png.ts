/**
 * A small PNG encoder for 8-bit gray, RGB and RGBA whose compression runs on Node's thread pool.
 *
 * pngjs tries all five row filters on every row and deflates at level 9 on the main thread: rendering a
 * 802×550 dataset spent most of its time there while the GPU idled. Here every row uses the Sub filter (good
 * on smooth renders, label maps and masks) and zlib's asynchronous deflate, so a writer can keep rendering
 * while earlier frames compress on other cores. Any PNG decoder reads the result.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

const deflate = promisify(zlib.deflate);

export type PngChannels = 1 | 3 | 4;
const COLOR_TYPE: Record<PngChannels, number> = { 1: 0, 3: 2, 4: 6 };

/** The PNG's CRC-32 (ISO 3309), of the chunk type and data. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bufs: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const b of bufs) for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32([head.subarray(4), data]), 0);
  return Buffer.concat([head, data, tail]);
}

/** Scanlines with a filter byte each (1 = Sub: each byte minus the byte one pixel to its left). */
function filterRows(width: number, height: number, channels: PngChannels, pixels: Uint8Array): Buffer {
  const stride = width * channels;
  if (pixels.length !== stride * height) throw new Error(`png: ${pixels.length} bytes for ${width}x${height}x${channels} (expected ${stride * height})`);
  const out = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const src = y * stride;
    const dst = y * (stride + 1);
    out[dst] = 1;
    for (let i = 0; i < channels && i < stride; i++) out[dst + 1 + i] = pixels[src + i]!;
    for (let i = channels; i < stride; i++) out[dst + 1 + i] = (pixels[src + i]! - pixels[src + i - channels]!) & 0xff;
  }
  return out;
}

function assemble(width: number, height: number, channels: PngChannels, idat: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering (per-row filter bytes)
  ihdr[12] = 0; // no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

/** Encodes 8-bit pixels (`Uint8Array // [H,W,channels]`) as a PNG; the deflate runs off the main thread. */
export async function encodePng8(width: number, height: number, channels: PngChannels, pixels: Uint8Array, level = 6): Promise<Buffer> {
  return assemble(width, height, channels, await deflate(filterRows(width, height, channels, pixels), { level }));
}

/** The same, synchronously (for callers that cannot await). */
export function encodePng8Sync(width: number, height: number, channels: PngChannels, pixels: Uint8Array, level = 6): Buffer {
  return assemble(width, height, channels, zlib.deflateSync(filterRows(width, height, channels, pixels), { level }));
}

/** Floats in [0, 1] (after `scale`) to bytes, rounded and clamped: the quantisation every PNG here uses. */
export function toBytes(data: ArrayLike<number>, scale = 1): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i]! * scale * 255);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** 8-bit pixels of a decoded PNG: `channels` 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. */
export interface Png8 {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  pixels: Uint8Array; // [H,W,channels]
}

const CHANNELS_OF: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 4: 2, 2: 3, 6: 4 };

/**
 * Decodes the PNGs this workbench writes (8-bit gray, gray + alpha, RGB or RGBA, not interlaced, no palette
 * or transparency chunk) with Node's native inflate and one unfiltering pass; null for any other kind of PNG,
 * which the caller hands to a general decoder. Throws on a damaged file (bad signature, chunk past the end,
 * no IEND, inflate error — zlib checks the data's Adler-32 — or a wrong amount of pixel data).
 */
export function decodePng8(bytes: Uint8Array): Png8 | null {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || sig.some((x, i) => bytes[i] !== x)) throw new Error('not a PNG signature');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0,
    height = 0,
    channels: 1 | 2 | 3 | 4 | undefined;
  const idat: Uint8Array[] = [];
  let end = false;
  for (let i = 8; !end;) {
    if (i + 12 > bytes.length) throw new Error('file ends inside a chunk header');
    const len = v.getUint32(i);
    const type = String.fromCharCode(bytes[i + 4]!, bytes[i + 5]!, bytes[i + 6]!, bytes[i + 7]!);
    const data = i + 8;
    if (data + len + 4 > bytes.length) throw new Error(`chunk ${type} runs past the end of the file`);
    if (type === 'IHDR') {
      width = v.getUint32(data);
      height = v.getUint32(data + 4);
      const depth = bytes[data + 8]!,
        colorType = bytes[data + 9]!,
        interlace = bytes[data + 12]!;
      if (depth !== 8 || interlace !== 0 || !(colorType in CHANNELS_OF)) return null;
      channels = CHANNELS_OF[colorType];
    } else if (type === 'IDAT') idat.push(bytes.subarray(data, data + len));
    else if (type === 'tRNS' || type === 'PLTE') return null;
    else if (type === 'IEND') end = true;
    i = data + len + 4;
  }
  if (!channels || width === 0 || height === 0) throw new Error('no valid IHDR chunk');
  const raw = zlib.inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== (stride + 1) * height) throw new Error(`${raw.length} bytes of pixel data for ${width}x${height}x${channels}`);
  const px = new Uint8Array(stride * height);
  const bpp = channels;
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride; // the previous row (absent on row 0: 0)
    switch (f) {
      case 0:
        for (let i = 0; i < stride; i++) px[dst + i] = raw[src + i]!;
        break;
      case 1:
        for (let i = 0; i < stride; i++) px[dst + i] = raw[src + i]! + (i >= bpp ? px[dst + i - bpp]! : 0);
        break;
      case 2:
        for (let i = 0; i < stride; i++) px[dst + i] = raw[src + i]! + (y > 0 ? px[up + i]! : 0);
        break;
      case 3:
        for (let i = 0; i < stride; i++) px[dst + i] = raw[src + i]! + (((i >= bpp ? px[dst + i - bpp]! : 0) + (y > 0 ? px[up + i]! : 0)) >> 1);
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? px[dst + i - bpp]! : 0;
          const b = y > 0 ? px[up + i]! : 0;
          const c = i >= bpp && y > 0 ? px[up + i - bpp]! : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a),
            pb = Math.abs(p - b),
            pc = Math.abs(p - c);
          px[dst + i] = raw[src + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        throw new Error(`row ${y} has filter type ${f}`);
    }
  }
  return { width, height, channels, pixels: px };
}
