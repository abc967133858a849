/**
 * The viewer end to end: the node server, the bundled page in headless Chromium (WebGPU on SwiftShader),
 * a slider moved through the DOM, and the canvas compared with the same frame rendered in Node by
 * AvatarRenderer on Dawn (lavapipe here). Both run the rasterizer's WGSL, but on different Vulkan
 * implementations and with different projection layouts (the browser's 10 storage buffers per stage force
 * the split projection; Dawn on Node runs the fused one), so agreement checks the browser path, the wire
 * format, the camera and parameter plumbing and the split kernels at once.
 *
 * Tolerance. Identical inputs differ only by float32 rounding between the two drivers (exp, sqrt, fused
 * multiply-adds), which moves a pixel's 8-bit value by at most one level and only where it sits near a
 * rounding boundary: we require a mean absolute difference below 0.5 levels (of 255) and PSNR above 40 dB
 * (1 level everywhere would be 48 dB). A real mismatch is far outside that: the slider's own change
 * (jawOpen 0 → 1, a few degrees of yaw) moves the image by several levels on average, and the test checks
 * that the Node render of the pre-slider parameters fails the same thresholds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { AvatarRenderer } from '../../lib/avatar/gpu-render.js';
import { initBoundGaussians, rgbToShDc, type BoundGaussians } from '../../lib/avatar/gaussians.js';
import { writeAvatarPly } from '../../lib/avatar/io.js';
import { getGpu, releaseGpu } from '../../lib/gpu/device.js';
import { renderedTriangles } from '../../lib/head/atlas.js';
import { loadHeadModel, type HeadModel } from '../../lib/head/model.js';
import { shCoeffs, rasterSettings, type Camera } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';
import type { FrameSnapshot } from '../../lib/viewer/protocol.js';
import { startViewerServer, type RunningViewer } from '../../lib/viewer/server.js';
import { CHROMIUM, haveChromium, launchHeadlessWebGpu } from '../../lib/viewer/chromium.js';

const W = 128,
  H = 128;

/** A small random avatar: every 12th visible triangle, coloured by material, SH degree 1 with some view dependence. */
function tinyAvatar(head: HeadModel): BoundGaussians {
  const tris = renderedTriangles(head).filter((_, i) => i % 12 === 0);
  const g = initBoundGaussians(tris.length, { perTriangle: 1, shDegree: 1, seed: 3, opacity: 0.85 });
  const rng = new Rng(11);
  const K = shCoeffs(1);
  const palette: [number, number, number][] = [
    [0.86, 0.66, 0.56],
    [0.45, 0.32, 0.24],
    [0.78, 0.32, 0.36],
    [0.95, 0.94, 0.88],
  ];
  for (let n = 0; n < g.count; n++) {
    const t = tris[g.binding[n]!]!;
    g.binding[n] = t;
    g.logScales.fill(Math.log(2.2), 3 * n, 3 * n + 3);
    for (let i = 0; i < 4; i++) g.quats[4 * n + i] = i === 0 ? 1 : 0.2 * rng.normal();
    const c = palette[head.faceMaterial[t]! % palette.length]!;
    for (let ch = 0; ch < 3; ch++) {
      g.sh[n * K * 3 + ch] = rgbToShDc(c[ch]! + 0.05 * rng.normal());
      for (let k = 1; k < K; k++) g.sh[(n * K + k) * 3 + ch] = 0.1 * rng.normal();
    }
  }
  return g;
}

type Rgba = { width: number; height: number; rgba: number[] };

async function settledFrame(page: Page, after: number): Promise<{ canvas: Rgba; snap: FrameSnapshot }> {
  await page.waitForFunction(
    (n) => {
      const v = (window as unknown as { __viewer: { error: string | null; frames: number; busy(): boolean } }).__viewer;
      return v.error !== null || (v.frames > n && !v.busy());
    },
    after,
    { timeout: 60_000, polling: 100 },
  );
  return page.evaluate(() => {
    const v = (window as unknown as { __viewer: { error: string | null; readCanvas(): Rgba; snapshot(): FrameSnapshot } }).__viewer;
    if (v.error) throw new Error(`viewer page: ${v.error}`);
    return { canvas: v.readCanvas(), snap: v.snapshot()! };
  });
}

const frames = (page: Page) => page.evaluate(() => (window as unknown as { __viewer: { frames: number } }).__viewer.frames);

/** Mean absolute difference (levels of 255) and PSNR (dB) over RGB. */
function compare(a: ArrayLike<number>, b: ArrayLike<number>): { mad: number; psnr: number } {
  let abs = 0,
    sq = 0,
    n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = a[i]! - b[i]!;
    abs += Math.abs(d);
    sq += d * d;
    n++;
  }
  const mse = sq / n;
  return { mad: abs / n, psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse) };
}

describe.skipIf(!haveChromium())(`viewer end to end (headless Chromium at ${CHROMIUM})`, () => {
  let head: HeadModel;
  let avatar: BoundGaussians;
  let edited: BoundGaussians;
  let dir: string;
  let viewer: RunningViewer;
  let browser: Browser;

  beforeAll(async () => {
    head = await loadHeadModel();
    avatar = tinyAvatar(head);
    dir = mkdtempSync(path.join(tmpdir(), 'gae-viewer-'));
    writeFileSync(path.join(dir, 'avatar.ply'), writeAvatarPly(avatar));
    // The "edited" avatar: the same Gaussians with green DC colours (what a green-skin edit changes).
    edited = { ...avatar, sh: Float32Array.from(avatar.sh) };
    const K3 = shCoeffs(avatar.shDegree) * 3;
    for (let n = 0; n < edited.count; n++) edited.sh.set([rgbToShDc(0.2), rgbToShDc(0.75), rgbToShDc(0.25)], n * K3);
    writeFileSync(path.join(dir, 'edited.ply'), writeAvatarPly(edited));
    viewer = await startViewerServer({ avatar: path.join(dir, 'avatar.ply'), edited: path.join(dir, 'edited.ply'), width: W, height: H });
    browser = await launchHeadlessWebGpu();
  });

  afterAll(async () => {
    await browser?.close();
    await viewer?.close();
    await releaseGpu();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders, follows a slider, and matches the Node render of the same frame', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`${viewer.url}?present=readback`);
    const first = await settledFrame(page, 0).catch((e: Error) => {
      throw new Error(`${e.message}\npage console:\n${logs.join('\n')}`);
    });
    expect(first.canvas.width).toBe(W);
    expect(await page.locator('#fps-source').textContent()).toMatch(/timestamp-query|wall clock/);

    // Move sliders the way a user does: set the value, fire 'input'.
    const n0 = await frames(page);
    for (const [id, v] of [
      ['expr-jawOpen', '1'],
      ['neck-yaw', '0.3'],
    ] as const) {
      await page.locator(`#${id}`).evaluate((el, val) => {
        (el as HTMLInputElement).value = val;
        el.dispatchEvent(new Event('input', { bubbles: true }));
      }, v);
    }
    const moved = await settledFrame(page, n0);
    expect(moved.snap.params.expression[head.expressionNames.indexOf('jawOpen')]).toBe(1);
    expect(moved.snap.params.neck[1]).toBeCloseTo(0.3, 6);
    const change = compare(first.canvas.rgba, moved.canvas.rgba);
    expect(change.mad).toBeGreaterThan(2); // the slider visibly changed the canvas

    // The same frame in Node (Dawn), from the page's own parameters and camera.
    const ctx = await getGpu();
    const r = new AvatarRenderer(ctx, head, avatar);
    const nodeRender = async (snap: FrameSnapshot): Promise<Uint8Array> => {
      const settings = rasterSettings({ shDegree: snap.shDegree, blend: snap.blend, background: snap.background });
      await r.prepare(settings, { forwardOnly: true });
      const cam: Camera = { ...snap.camera, worldToCamera: Float64Array.from(snap.camera.worldToCamera) };
      const p = {
        identity: Float32Array.from(snap.params.identity),
        expression: Float32Array.from(snap.params.expression),
        jaw: snap.params.jaw as [number, number, number],
        neck: snap.params.neck as [number, number, number],
        translation: snap.params.translation as [number, number, number],
      };
      for (;;) {
        const before = r.stats.overflowFrames;
        await r.render(p, cam, settings);
        await r.settle();
        if (r.stats.overflowFrames === before) break; // re-render a frame that ran out of key capacity
      }
      const { rgb } = await r.readImage(cam);
      const out = new Uint8Array(W * H * 4);
      for (let i = 0; i < W * H; i++) {
        for (let c = 0; c < 3; c++) out[4 * i + c] = Math.round(255 * Math.min(1, Math.max(0, rgb[3 * i + c]!)));
        out[4 * i + 3] = 255;
      }
      return out;
    };
    const same = compare(moved.canvas.rgba, await nodeRender(moved.snap));
    const stale = compare(moved.canvas.rgba, await nodeRender(first.snap));
    console.log(
      `viewer e2e: slider change MAD ${change.mad.toFixed(2)} levels; browser vs Node: MAD ${same.mad.toFixed(3)}, PSNR ${same.psnr.toFixed(1)} dB; ` +
        `vs Node render of the pre-slider frame: MAD ${stale.mad.toFixed(2)}, PSNR ${stale.psnr.toFixed(1)} dB`,
    );
    expect(same.mad).toBeLessThan(0.5);
    expect(same.psnr).toBeGreaterThan(40);
    expect(stale.mad > 0.5 || stale.psnr < 40).toBe(true);

    // WABE blending, then the edited avatar: each toggle changes the canvas and still matches Node.
    let prev = moved;
    for (const [id, check] of [
      ['blend-wabe', (s: FrameSnapshot) => expect(s.blend).toBe('wabe')],
      ['avatar-edited', (s: FrameSnapshot) => expect(s.avatar).toBe('edited')],
    ] as const) {
      const n = await frames(page);
      await page.locator(`#${id}`).check();
      const next = await settledFrame(page, n);
      check(next.snap);
      if (next.snap.avatar === 'edited') r.setGaussians(edited);
      const toggled = compare(prev.canvas.rgba, next.canvas.rgba);
      const vsNode = compare(next.canvas.rgba, await nodeRender(next.snap));
      console.log(`viewer e2e: #${id}: change MAD ${toggled.mad.toFixed(2)}; browser vs Node MAD ${vsNode.mad.toFixed(3)}, PSNR ${vsNode.psnr.toFixed(1)} dB`);
      expect(toggled.mad).toBeGreaterThan(1);
      expect(vsNode.mad).toBeLessThan(0.5);
      expect(vsNode.psnr).toBeGreaterThan(40);
      prev = next;
    }
    r.destroy();
    await page.close();
  });
});

if (!haveChromium()) {
  describe('viewer end to end', () => {
    it.skip(`skipped: no Chromium at ${CHROMIUM} (install it with scripts/setup.sh --full, or set GAE_CHROMIUM)`, () => {});
  });
}
