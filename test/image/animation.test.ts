import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeGif, exportAnimation, ffmpegAvailable, NO_FFMPEG, writeMp4 } from '../../lib/image/animation.js';
import { rgbImage, type RgbImage } from '../../lib/util/image.js';
import { decodeGif } from '../helpers/gif.js';

/** Frames of a moving two-colour bar on a gradient (many colours, so quantization is exercised). */
function frames(n: number, w = 40, h = 30): RgbImage[] {
  return Array.from({ length: n }, (_, t) => {
    const im = rgbImage(w, h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const p = 3 * (y * w + x);
        const bar = Math.abs(x - 5 - 6 * t) < 3;
        im.data.set(bar ? [1, 0.2, 0] : [x / (w - 1), y / (h - 1), 0.5], p);
      }
    return im;
  });
}

describe('GIF', () => {
  it('decodes back to the frames (size, count, delay, loop, colours within quantization error)', () => {
    const fr = frames(5);
    const gif = decodeGif(encodeGif(fr, { fps: 10 }));
    expect([gif.width, gif.height, gif.frames.length, gif.loop]).toEqual([40, 30, 5, 0]);
    expect(gif.frames.map((f) => f.delayCs)).toEqual([10, 10, 10, 10, 10]);
    let maxErr = 0;
    let sumErr = 0;
    fr.forEach((f, t) => {
      for (let i = 0; i < f.data.length; i++) {
        const e = Math.abs(gif.frames[t]!.rgb[i]! - Math.round(f.data[i]! * 255));
        maxErr = Math.max(maxErr, e);
        sumErr += e;
      }
    });
    expect(sumErr / (5 * 40 * 30 * 3)).toBeLessThan(6);
    expect(maxErr).toBeLessThan(40);
    // The bar moved: frame 0 and frame 4 differ where the bar was.
    const at = (t: number, x: number, y: number) => [...gif.frames[t]!.rgb.slice(3 * (y * 40 + x), 3 * (y * 40 + x) + 3)];
    expect(at(0, 5, 10)[0]).toBeGreaterThan(240);
    expect(at(4, 5, 10)[0]).toBeLessThan(60);
    expect(at(4, 29, 10)[0]).toBeGreaterThan(240);
  });

  it('rejects frames of different sizes', () => {
    expect(() => encodeGif([rgbImage(2, 2), rgbImage(3, 2)])).toThrow(/frame 1 is 3x2, frame 0 is 2x2/);
  });
});

describe('MP4', () => {
  it('says when ffmpeg is absent instead of writing anything', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-anim-'));
    const r = await exportAnimation(path.join(dir, 'turntable'), frames(3), { ffmpeg: '/nonexistent/ffmpeg' });
    expect(r.written).toEqual([path.join(dir, 'turntable.gif')]);
    expect(r.skipped).toEqual([{ format: 'mp4', reason: NO_FFMPEG }]);
    await expect(writeMp4(path.join(dir, 'x.mp4'), frames(2), { ffmpeg: '/nonexistent/ffmpeg' })).rejects.toThrow(NO_FFMPEG);
    expect(existsSync(path.join(dir, 'x.mp4'))).toBe(false);
  });

  it.skipIf(!ffmpegAvailable())('writes an H.264 MP4 with every frame (odd sizes padded)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-anim-'));
    const file = path.join(dir, 'turntable.mp4');
    await writeMp4(file, frames(6, 41, 31), { fps: 12 });
    const bytes = await readFile(file);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const probe = spawnSync(
      'ffprobe',
      ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'csv=p=0', file],
      { encoding: 'utf8' },
    );
    expect(probe.stdout.trim()).toBe('h264,42,32,6');
  });
});
