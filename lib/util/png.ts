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
