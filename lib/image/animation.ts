/**
 * Turntable / reenactment animations from frame sequences: GIF (gifenc, in process) and MP4 (H.264 through
 * the `ffmpeg` binary when it is installed: Debian package `ffmpeg`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as gifencNs from 'gifenc';
import { writeFileAtomic } from '../util/atomic.js';
import type { RgbImage } from '../util/image.js';

// gifenc ships an ESM build (bundlers: named exports) and a CJS main (Node: everything on the default export).
const gifenc = (typeof gifencNs.quantize === 'function' ? gifencNs : (gifencNs as unknown as { default: typeof gifencNs }).default) as typeof gifencNs;

function checkFrames(frames: RgbImage[], what: string): { width: number; height: number } {
  if (frames.length === 0) throw new Error(`${what}: no frames`);
  const { width, height } = frames[0]!;
  frames.forEach((f, i) => {
    if (f.width !== width || f.height !== height) throw new Error(`${what}: frame ${i} is ${f.width}x${f.height}, frame 0 is ${width}x${height}`);
  });
  return { width, height };
}

function rgba8(img: RgbImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) out[4 * p + c] = Math.max(0, Math.min(255, Math.round(img.data[3 * p + c]! * 255)));
    out[4 * p + 3] = 255;
  }
  return out;
}

export interface GifOptions {
  fps?: number; // default 15 (GIF stores delays in 1/100 s, so rates are rounded)
  /** 0 loops forever (default), −1 plays once, n > 0 repeats n times. */
  repeat?: number;
  /** One palette for all frames (no palette flicker; default) or one per frame (more accurate colours). */
  palette?: 'global' | 'per-frame';
}

export function encodeGif(frames: RgbImage[], opts: GifOptions = {}): Uint8Array {
  const { width, height } = checkFrames(frames, 'GIF');
  const delay = 1000 / (opts.fps ?? 15);
  const rgba = frames.map(rgba8);
  let global: number[][] | undefined;
  if ((opts.palette ?? 'global') === 'global') {
    // Quantize a sample of every frame's pixels together (at most ~1M pixels).
    const stride = Math.max(1, Math.ceil((frames.length * width * height) / 1_000_000));
    const sample: number[] = [];
    for (const f of rgba) for (let p = 0; p < width * height; p += stride) sample.push(f[4 * p]!, f[4 * p + 1]!, f[4 * p + 2]!, 255);
    global = gifenc.quantize(new Uint8Array(sample), 256);
  }
  const enc = gifenc.GIFEncoder();
  rgba.forEach((f, i) => {
    const palette = global ?? gifenc.quantize(f, 256);
    const index = gifenc.applyPalette(f, palette);
    enc.writeFrame(index, width, height, { palette, delay, ...(i === 0 ? { repeat: opts.repeat ?? 0 } : {}) });
  });
  enc.finish();
  return enc.bytes();
}

export async function writeGif(file: string, frames: RgbImage[], opts: GifOptions = {}): Promise<void> {
  await writeFileAtomic(file, encodeGif(frames, opts));
}

/** Whether an ffmpeg binary answers `-version`. */
export function ffmpegAvailable(ffmpeg = process.env.GAE_FFMPEG ?? 'ffmpeg'): boolean {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-version'], { stdio: 'ignore' });
  return r.status === 0;
}

export const NO_FFMPEG = 'MP4 export needs ffmpeg: apt-get install -y ffmpeg (or set GAE_FFMPEG to an ffmpeg binary)';

export interface Mp4Options {
  fps?: number; // default 25
  /** x264 constant rate factor (lower = better). Default 18. */
  crf?: number;
  ffmpeg?: string;
}

/** H.264 MP4 (yuv420p, even size by padding one pixel where needed), frames piped as raw RGB. */
export async function writeMp4(file: string, frames: RgbImage[], opts: Mp4Options = {}): Promise<void> {
  const { width, height } = checkFrames(frames, 'MP4');
  const ffmpeg = opts.ffmpeg ?? process.env.GAE_FFMPEG ?? 'ffmpeg';
  if (!ffmpegAvailable(ffmpeg)) throw new Error(NO_FFMPEG);
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp.mp4`);
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${width}x${height}`,
    '-r',
    String(opts.fps ?? 25),
    '-i',
    '-',
    '-vf',
    'pad=ceil(iw/2)*2:ceil(ih/2)*2',
    '-c:v',
    'libx264',
    '-crf',
    String(opts.crf ?? 18),
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    tmp,
  ];
  const proc = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', resolve);
  });
  try {
    for (const f of frames) {
      const buf = Buffer.alloc(width * height * 3);
      for (let i = 0; i < buf.length; i++) buf[i] = Math.max(0, Math.min(255, Math.round(f.data[i]! * 255)));
      if (!proc.stdin.write(buf)) await new Promise((r) => proc.stdin.once('drain', r));
    }
    proc.stdin.end();
  } catch {
    // ffmpeg died; its exit code and stderr say why
  }
  const code = await exited;
  if (code !== 0) {
    await fs.rm(tmp, { force: true });
    throw new Error(`${file}: ffmpeg failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  await fs.rename(tmp, file);
}

export interface AnimationResult {
  written: string[];
  skipped: { format: string; reason: string }[];
}

/** Writes <base>.gif and, when ffmpeg is present, <base>.mp4; says why a format was skipped. */
export async function exportAnimation(
  basePath: string,
  frames: RgbImage[],
  opts: { fps?: number; formats?: ('gif' | 'mp4')[]; ffmpeg?: string } = {},
): Promise<AnimationResult> {
  const res: AnimationResult = { written: [], skipped: [] };
  for (const f of opts.formats ?? ['gif', 'mp4']) {
    const file = `${basePath}.${f}`;
    if (f === 'gif') {
      await writeGif(file, frames, opts.fps ? { fps: opts.fps } : {});
      res.written.push(file);
    } else if (!ffmpegAvailable(opts.ffmpeg ?? process.env.GAE_FFMPEG ?? 'ffmpeg')) {
      res.skipped.push({ format: 'mp4', reason: NO_FFMPEG });
    } else {
      await writeMp4(file, frames, { ...(opts.fps ? { fps: opts.fps } : {}), ...(opts.ffmpeg ? { ffmpeg: opts.ffmpeg } : {}) });
      res.written.push(file);
    }
  }
  return res;
}
