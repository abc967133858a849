/**
 * Frames that overflow the rasterizer's tile-key capacity: `renderModel` (what the 2D editor, the evaluation and
 * the figures see) renders them again once the capacity has grown, and `warmRasterizer` sizes the capacity before
 * a training loop's synchronous first step. The shared rasterizer is opened here with room for 1024 keys, far
 * fewer than the toy scene's frames need.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareRasterize, rasterize, sharedRasterizer } from '../../lib/raster/rasterize.js';
import { rasterSettings } from '../../lib/raster/types.js';
import { renderModel, warmRasterizer } from '../../lib/train/evaluate.js';
import { AvatarModel, FrameCache } from '../../lib/avatar/model.js';
import { readAvatarPly } from '../../lib/avatar/io.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { poseHead, neutralParams } from '../../lib/head/pose.js';
import { triangleFrames } from '../../lib/head/frames.js';
import { renderedTriangles } from '../../lib/head/atlas.js';
import { gpuFixture } from '../helpers/gpu.js';
import { writeToyScene, type ToyScene } from '../helpers/toy-scene.js';

gpuFixture();

const BACKGROUND: [number, number, number] = [0.2, 0.2, 0.2];
let root = '';
let scene: ToyScene | undefined;

beforeAll(async () => {
  // First, so that the shared rasterizer is created with this capacity.
  await prepareRasterize(rasterSettings({ shDegree: 0, background: BACKGROUND }), { initialCapacity: 1024 });
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'render-complete-'));
  // Broad Gaussians over the whole 128×128 image (64 tiles of 16×16): ~24 × 64 keys.
  const gaussians = Array.from({ length: 24 }, (_, i) => ({
    name: `g${i}`,
    position: [((i % 6) - 2.5) * 0.04, (Math.floor(i / 6) - 1.5) * 0.04, 0.01 * i] as [number, number, number],
    sigma: [0.12, 0.12, 0.12] as [number, number, number],
    opacity: 0.3,
    rgb: [(i % 3) / 2, ((i + 1) % 3) / 2, 0.5] as [number, number, number],
  }));
  scene = await writeToyScene(root, gaussians, { anglesDeg: [0, 20], radius: 0.5, size: 128, focal: 140, background: BACKGROUND });
}, 120_000);

afterAll(async () => {
  scene?.dispose();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

async function openModel(): Promise<{ model: AvatarModel; pose: ReturnType<FrameCache['get']> }> {
  const head = await loadHeadModel();
  const bindable = renderedTriangles(head);
  const model = new AvatarModel(readAvatarPly(new Uint8Array(await fs.readFile(scene!.avatar)), scene!.avatar, head.triangleCount, bindable));
  const pose = new FrameCache(1).get('neutral', () => triangleFrames(poseHead(head, neutralParams()), head.faces));
  return { model, pose };
}

describe('frames past the tile-key capacity', () => {
  it('renderModel re-renders an overflowed frame: the result equals a render with room to spare', async () => {
    const r = sharedRasterizer()!;
    const settings = rasterSettings({ shDegree: 0, background: BACKGROUND });
    const { model, pose } = await openModel();
    // Twice the resolution of the scene's own cameras (which writing it rendered): 4× their tiles, so more keys
    // than the capacity has grown to.
    const cam = { ...scene!.cameras[0]!, width: 256, height: 256, cx: 128, cy: 128, fx: 280, fy: 280 };
    const capacity = r.stats.capacity;
    const before = r.stats.overflowFrames;
    const first = await renderModel(model, pose, cam, settings);
    expect(r.stats.overflowFrames, 'the first attempt overflowed').toBeGreaterThan(before);
    expect(r.stats.capacity).toBeGreaterThan(capacity);
    const after = r.stats.overflowFrames;
    const again = await renderModel(model, pose, cam, settings);
    expect(r.stats.overflowFrames).toBe(after);
    expect(Array.from(first.color.data)).toEqual(Array.from(again.color.data));
    // The scene covers the image: a frame with dropped keys would show the background where tiles are missing.
    let background = 0;
    for (let p = 0; p < 128 * 128; p++)
      if (Math.abs(first.color.data[3 * p]! - BACKGROUND[0]) < 1e-6 && Math.abs(first.color.data[3 * p + 2]! - BACKGROUND[2]) < 1e-6) background++;
    expect(background).toBeLessThan(0.05 * 128 * 128);
    model.dispose();
  });

  it('warmRasterizer sizes the capacity so that a synchronous render of a larger frame does not overflow', async () => {
    const r = sharedRasterizer()!;
    const settings = rasterSettings({ shDegree: 0, background: BACKGROUND });
    const { model, pose } = await openModel();
    // A larger frame: more keys than the frames so far, so the capacity must grow again.
    const near = { ...scene!.cameras[1]!, width: 512, height: 512, cx: 256, cy: 256, fx: 560, fy: 560 };
    const capacity = r.stats.capacity;
    await warmRasterizer(model, pose, near, settings);
    const before = r.stats.overflowFrames;
    const out = rasterize(model.world(pose), near, settings);
    await out.color.data();
    await r.settle();
    expect(r.stats.overflowFrames).toBe(before);
    expect(r.stats.capacity, 'the warm-up grew it').toBeGreaterThan(capacity);
    tf.dispose([out.color, out.alpha, out.depth, out.nContrib, out.radii]);
    model.dispose();
  });
});
