import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { encodePng8, encodePng8Sync, toBytes, type PngChannels } from '../../lib/util/png.js';
import { Rng } from '../../lib/util/random.js';

describe('PNG encoder (lib/util/png.ts)', () => {
  for (const channels of [1, 3, 4] as PngChannels[]) {
    for (const [w, h] of [
      [1, 1],
      [3, 5],
      [37, 11],
    ]) {
      it(`${channels} channels, ${w}x${h}: pngjs decodes exactly the bytes given, async and sync alike`, async () => {
        const rng = new Rng(w * 100 + h + channels);
        const px = new Uint8Array(w * h * channels).map(() => Math.floor(rng.next() * 256));
        const a = await encodePng8(w, h, channels, px);
        expect(encodePng8Sync(w, h, channels, px).equals(a)).toBe(true);
        const d = PNG.sync.read(a);
        expect([d.width, d.height]).toEqual([w, h]);
        // pngjs expands to RGBA: gray → (v, v, v, 255), RGB → (r, g, b, 255).
        for (let p = 0; p < w * h; p++) {
          const want =
            channels === 1
              ? [px[p]!, px[p]!, px[p]!, 255]
              : channels === 3
                ? [px[3 * p]!, px[3 * p + 1]!, px[3 * p + 2]!, 255]
                : Array.from(px.subarray(4 * p, 4 * p + 4));
          expect(Array.from(d.data.subarray(4 * p, 4 * p + 4))).toEqual(want);
        }
      });
    }
  }
  it('refuses a pixel buffer of the wrong size', async () => {
    await expect(encodePng8(4, 4, 3, new Uint8Array(47))).rejects.toThrow('47 bytes for 4x4x3 (expected 48)');
  });
  it('quantises floats as the other writers do: round, clamp; labels stay exact at scale 1/255', () => {
    expect(Array.from(toBytes([-0.1, 0, 0.5, 1 / 255, 1, 1.7]))).toEqual([0, 0, 128, 1, 255, 255]);
    expect(Array.from(toBytes([0, 1, 7, 200, 255], 1 / 255))).toEqual([0, 1, 7, 200, 255]);
  });
});
