/**
 * The viewer's GPU presentation (a full-screen draw of the rasterizer's [H,W,5] buffer into a canvas
 * texture) against its readback path (quantizeRgba): the same 8-bit values, so a page looks the same
 * either way. Runs in Node on a plain rgba8unorm texture standing in for the canvas.
 */
import { describe, expect, it } from 'vitest';
import { download, upload } from '../../lib/gpu/index.js';
import { BufferUsage, TextureUsage } from '../../lib/gpu/flags.js';
import { Presenter, quantizeRgba } from '../../lib/viewer/present.js';
import { Rng } from '../../lib/util/random.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();

describe('Presenter', () => {
  it('draws the same bytes as the readback path quantises', async () => {
    const ctx = await gpu();
    const { device } = ctx;
    const W = 64,
      H = 24; // W·4 = 256: rows need no padding for the copy
    const rng = new Rng(4);
    const image = new Float32Array(W * H * 5);
    for (let i = 0; i < image.length; i++) image[i] = rng.uniform(-0.2, 1.2); // includes values to clamp
    const buf = upload(device, image);
    const tex = device.createTexture({ size: [W, H], format: 'rgba8unorm', usage: TextureUsage.RENDER_ATTACHMENT | TextureUsage.COPY_SRC });
    const p = new Presenter(ctx, 'rgba8unorm');
    p.draw({ getCurrentTexture: () => tex }, buf, W, H);
    const out = device.createBuffer({ size: W * H * 4, usage: BufferUsage.COPY_DST | BufferUsage.COPY_SRC | BufferUsage.STORAGE });
    const enc = device.createCommandEncoder();
    enc.copyTextureToBuffer({ texture: tex }, { buffer: out, bytesPerRow: W * 4 }, [W, H]);
    device.queue.submit([enc.finish()]);
    const got = new Uint8Array((await download(device, out, Uint32Array, W * H)).buffer);
    const want = new Uint8Array(W * H * 4);
    quantizeRgba(image, want);
    // The float → unorm8 conversion may round an exact .5 the other way; allow one level there only.
    let off = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i]! - want[i]!);
      expect(d).toBeLessThanOrEqual(1);
      off += d;
    }
    expect(off).toBeLessThan(want.length / 1000);
    p.destroy();
    tex.destroy();
    out.destroy();
    buf.destroy();
  });
});
