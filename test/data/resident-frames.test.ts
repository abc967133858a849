/** Captured frames resident on the GPU as 8-bit data: unpacked bit for bit as the CPU decoder gives them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useTfjsWebGpu, tf } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/device.js';
import { synthConfig, writeDataset } from '../../lib/data/writer.js';
import { loadDataset, loadFrameImages, type SyntheticDataset } from '../../lib/data/dataset.js';
import { ResidentFrames } from '../../lib/data/resident-frames.js';

let root = '';
let ds: SyntheticDataset;

beforeAll(async () => {
  const ctx = await useTfjsWebGpu();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'resident-frames-'));
  await writeDataset(ctx, path.join(root, 'data'), synthConfig('tiny', { subject: 'tiny', seed: 3, frames: 2 }));
  ds = await loadDataset(path.join(root, 'data'));
}, 120_000);

afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
  await releaseGpu();
});

const bits = (a: ArrayLike<number>) => new Uint32Array(Float32Array.from(a).buffer);

describe('ResidentFrames', () => {
  it('unpacks colour, mask and labels to exactly what loadFrameImages decodes, uploading each frame once', async () => {
    const frames = new ResidentFrames();
    for (const f of [ds.splits.train.frames[0]!, ds.splits.train.frames[5]!, ds.splits.val.frames[1]!, ds.splits.cross.frames[0]!]) {
      const cpu = await loadFrameImages(f);
      const [rgb, alpha, labels] = [await frames.target(f), await frames.alpha(f), await frames.labels(f)];
      expect(rgb.shape).toEqual([f.camera.height, f.camera.width, 3]);
      expect(bits(await rgb.data())).toEqual(bits(cpu.rgb.data));
      expect(bits(await alpha.data())).toEqual(bits(cpu.alpha));
      expect(Array.from(await labels.data())).toEqual(Array.from(cpu.labels));
      expect(cpu.labels.some((l) => l !== 0)).toBe(true);
      tf.dispose([rgb, alpha, labels]);
      const held = frames.bytes;
      const again = await frames.target(f);
      expect(frames.bytes).toBe(held);
      expect(bits(await again.data())).toEqual(bits(cpu.rgb.data));
      again.dispose();
    }
    frames.dispose();
  });

  it('names the file when an image does not match its camera', async () => {
    const frames = new ResidentFrames();
    const f = ds.splits.train.frames[1]!;
    const wrong = { ...f, camera: { ...f.camera, width: f.camera.width + 1 } };
    await expect(frames.target(wrong)).rejects.toThrow(`${f.image}: size ${f.camera.width}×${f.camera.height} does not match the camera's ${f.camera.width + 1}×${f.camera.height}`);
    frames.dispose();
  });
});
