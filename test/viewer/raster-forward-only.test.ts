/**
 * The browser's forward path in Node: the split projection (two kernels, ≤ 7 storage buffers each, for
 * browsers' 8–10 per stage) must produce the same bytes as the fused one on hard scenes (culled, off-screen,
 * degenerate Gaussians), and a forward-only rasterizer must render without compiling the backward kernels.
 */
import { describe, expect, it } from 'vitest';
import { download } from '../../lib/gpu/index.js';
import { GaussianRasterizer, type ForwardState } from '../../lib/raster/gpu/rasterizer.js';
import { sortConfig } from '../../lib/raster/gpu/sort.js';
import { rasterSettings, type RasterSettings } from '../../lib/raster/types.js';
import { openDefaultLimitsDevice, type GpuContext } from '../../lib/gpu/device.js';
import { destroyGaussians, toFloat32, uploadGaussians } from '../raster/gpu-helpers.js';
import { withHardCases } from '../raster/gpu-scenes.js';
import { randomScene } from '../../lib/raster/scenes.js';
import { gpuFixture } from '../helpers/gpu.js';
import { AvatarRenderer } from '../../lib/avatar/gpu-render.js';
import { initBoundGaussians } from '../../lib/avatar/gaussians.js';
import { renderedTriangles } from '../../lib/head/atlas.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { neutralParams } from '../../lib/head/pose.js';
import { DEFAULT_ORBIT, orbitCamera } from '../../lib/viewer/orbit.js';

const gpu = gpuFixture();

async function outputs(ctx: GpuContext, st: ForwardState) {
  const d = ctx.device;
  const n = st.n;
  const px = st.info.width * st.info.height;
  return {
    proj: await download(d, st.proj, Uint32Array, n * 12),
    radii: await download(d, st.radii, Int32Array, n),
    tilesTouched: await download(d, st.tilesTouched, Uint32Array, n),
    rects: await download(d, st.rects, Uint32Array, n * 2),
    depthSorted: await download(d, st.depthSorted, Uint32Array, n),
    image: await download(d, st.image, Uint32Array, px * 5), // bit patterns: exact equality
    nContrib: await download(d, st.nContrib, Uint32Array, px),
  };
}

describe('forward-only rasterizer with the split projection', () => {
  for (const [seed, settings] of [
    [21, {}],
    [22, { blend: 'wabe' }],
  ] as [number, Partial<RasterSettings>][]) {
    it(`split and fused projections agree bit for bit (seed ${seed}, ${settings.blend ?? 'alpha'})`, async () => {
      const ctx = await gpu();
      const scene = randomScene(seed, { count: 400, width: 72, height: 56, shDegree: 2 });
      const g = toFloat32(withHardCases(scene.g, scene.cam, seed));
      const buf = uploadGaussians(ctx, g);
      const s = rasterSettings({ shDegree: 2, ...settings });
      const fused = new GaussianRasterizer(ctx, { projectLayout: 'fused' });
      const split = new GaussianRasterizer(ctx, { projectLayout: 'split' });
      await fused.render(buf, scene.cam, s);
      await split.prepare(s, { forwardOnly: true });
      const a = await outputs(ctx, await fused.render(buf, scene.cam, s));
      const b = await outputs(ctx, await split.render(buf, scene.cam, s));
      // Some Gaussians are culled and some visible, so both branches of projectKeys ran.
      expect(a.radii.some((r) => r === 0)).toBe(true);
      expect(a.radii.some((r) => r > 0)).toBe(true);
      for (const k of Object.keys(a) as (keyof typeof a)[]) expect(Array.from(b[k]), k).toEqual(Array.from(a[k]));
      fused.destroy();
      split.destroy();
      destroyGaussians(buf);
    });
  }

  it('a forward-only rasterizer renders but refuses a backward pass until fully prepared', async () => {
    const ctx = await gpu();
    const scene = randomScene(23, { count: 50, width: 32, height: 32, shDegree: 0 });
    const buf = uploadGaussians(ctx, toFloat32(scene.g));
    const s = rasterSettings({ shDegree: 0 });
    const r = new GaussianRasterizer(ctx, { projectLayout: 'split' });
    await r.prepare(s, { forwardOnly: true });
    const st = r.forward(buf, scene.cam, s);
    const dOut = ctx.device.createBuffer({ size: 32 * 32 * 5 * 4, usage: 0x80 | 0x8 });
    expect(() => r.backward(st, buf, dOut)).toThrow(/prepared forward-only/);
    await r.prepare(s);
    expect(() => r.backward(st, buf, dOut)).not.toThrow();
    await ctx.device.queue.onSubmittedWorkDone();
    r.destroy();
    destroyGaussians(buf);
    dOut.destroy();
  });

  it('the radix sort leaves the subgroup path where its workgroup memory would exceed the limit', async () => {
    const ctx = await gpu();
    const fake = (minSg: number, maxSg: number, wgBytes: number) =>
      ({
        ...ctx,
        has: { ...ctx.has, subgroups: true },
        adapter: { info: { subgroupMinSize: minSg, subgroupMaxSize: maxSg } },
        device: { limits: { maxComputeWorkgroupStorageSize: wgBytes } },
      }) as unknown as GpuContext;
    // SwiftShader in Chromium: 4-lane subgroups, 32 KiB → 16 subgroups' rank tables would need 33 KiB.
    expect(sortConfig(fake(4, 4, 32768)).subgroups).toBe(false);
    expect(sortConfig(fake(4, 4, 65536))).toMatchObject({ subgroups: true, nsg: 16 });
    // lavapipe (8 lanes) and NVIDIA (32 lanes) keep the subgroup path within 32 KiB; with the block-local
    // sort, NVIDIA takes fewer keys per thread so that a block fits (4 in a browser's 32 KiB, 8 in 48 KiB).
    expect(sortConfig(fake(8, 8, 32768))).toMatchObject({ subgroups: true, wg: 64, nsg: 8, kpt: 16 });
    expect(sortConfig(fake(32, 32, 32768))).toMatchObject({ subgroups: true, wg: 256, nsg: 8, kpt: 16 });
    expect(sortConfig(fake(8, 8, 32768), false, true)).toMatchObject({ subgroups: true, wg: 64, nsg: 8, kpt: 16, local: true });
    expect(sortConfig(fake(32, 32, 32768), false, true)).toMatchObject({ subgroups: true, wg: 256, nsg: 8, kpt: 4, local: true });
    expect(sortConfig(fake(32, 32, 49152), false, true)).toMatchObject({ subgroups: true, wg: 256, nsg: 8, kpt: 8, local: true });
  });

  it("renders an avatar on a device with WebGPU's default limits (8 storage buffers per stage, 16 KiB workgroup memory)", async () => {
    const ctx = await gpu();
    // A second device with the spec's default limits, as a browser gives before raising them.
    const small = await openDefaultLimitsDevice(['subgroups']);
    const device = small.device;
    expect(device.limits.maxStorageBuffersPerShaderStage).toBe(8);
    expect(device.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    let validation: string | null = null;
    device.addEventListener('uncapturederror', (ev) => (validation ??= (ev as GPUUncapturedErrorEvent).error.message));
    const head = await loadHeadModel();
    const tris = renderedTriangles(head).filter((_, i) => i % 40 === 0);
    const g = initBoundGaussians(tris.length, { perTriangle: 1, shDegree: 1, seed: 2, opacity: 0.7 });
    for (let n = 0; n < g.count; n++) g.binding[n] = tris[g.binding[n]!]!;
    g.logScales.fill(Math.log(3));
    const cam = orbitCamera(DEFAULT_ORBIT, 64, 64);
    const p = neutralParams();
    p.expression[head.expressionNames.indexOf('jawOpen')] = 0.5;
    const images: Float32Array[] = [];
    for (const c of [ctx, small]) {
      const r = new AvatarRenderer(c, head, g);
      for (const blend of ['alpha', 'wabe'] as const) {
        const s = rasterSettings({ shDegree: 1, blend, background: [1, 1, 1] });
        await r.prepare(s, { forwardOnly: true });
        for (;;) {
          const before = r.stats.overflowFrames;
          await r.render(p, cam, s);
          await r.settle();
          if (r.stats.overflowFrames === before) break;
        }
        images.push((await r.readImage(cam)).rgb);
      }
      if (c === small) expect(r.projectLayout).toBe('split');
      r.destroy();
    }
    expect(validation).toBeNull();
    // Same bytes on both devices (the sort's ballot-free path is as stable as the subgroup one).
    expect(Array.from(images[2]!)).toEqual(Array.from(images[0]!));
    expect(Array.from(images[3]!)).toEqual(Array.from(images[1]!));
    expect(images[0]!.some((v) => v < 0.9)).toBe(true); // the head is in the picture
    device.destroy();
  });
});
