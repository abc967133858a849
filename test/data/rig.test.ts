/**
 * The rig and the performances measured on synthesised data (issue 13): the head fills most of the frame, a
 * frontal mouth-open image at the full preset shows over 1% mouth interior, and at least a third of every
 * split's frames show the mouth open.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cameraRig } from '../../lib/data/cameras.js';
import { makeSequence, sampleIdentity } from '../../lib/data/sequences.js';
import { PRESETS, synthConfig, writeDataset } from '../../lib/data/writer.js';
import { loadDataset, loadFrameImages, SPLITS } from '../../lib/data/dataset.js';
import { poseFrames, subjectTexture, renderPosed } from '../../lib/data/ground-truth.js';
import { REGION_GROUPS } from '../../lib/head/regions.js';
import { mouthOpenness } from '../../lib/data/views.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { DEFAULT_SHADING } from '../../lib/head/render.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();
const interior = new Set(REGION_GROUPS.mouthInterior);
const fraction = (labels: ArrayLike<number>, keep: (l: number) => boolean) => {
  let n = 0;
  for (let p = 0; p < labels.length; p++) if (keep(labels[p]!)) n++;
  return n / labels.length;
};

describe('rig framing (full preset, 802×550)', () => {
  it('a frontal mouth-open frame: mouth interior ≥ 1% of the image, the head ≥ 40% of it', async () => {
    const full = PRESETS.full;
    const rig = cameraRig({ count: full.cameras, width: full.width, height: full.height, heldOut: full.heldOut, seed: 1 });
    const frontal = [...rig].sort((a, b) => Math.abs(a.azimuthDeg) - Math.abs(b.azimuthDeg))[0]!;
    expect(Math.abs(frontal.azimuthDeg)).toBeLessThan(10);
    const seq = makeSequence({ frames: full.frames, seed: 11, identity: sampleIdentity(1), kind: 'train' });
    const widest = seq.params.reduce((a, b) => (mouthOpenness(b) > mouthOpenness(a) ? b : a));
    const model = await loadHeadModel();
    const [verts] = await poseFrames(await gpu(), model, [widest]);
    const out = await renderPosed(await gpu(), verts!, frontal.camera, subjectTexture(model, 5, 256, null), { supersample: 1, background: [1, 1, 1], shading: DEFAULT_SHADING });
    expect(fraction(out.labels, (l) => interior.has(l))).toBeGreaterThanOrEqual(0.01);
    // The looser rig (f ≈ 1400, head and neck in view) gave the head about a quarter of the image.
    expect(fraction(out.labels, (l) => l !== 0)).toBeGreaterThanOrEqual(0.4);
  }, 120_000);
});

describe('mouth-open frames (tiny preset, stored labels)', () => {
  let tmp = '';
  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('at least a third of every split\'s timesteps show the mouth interior in the most frontal camera', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gae-rig-'));
    const dir = path.join(tmp, 'rig');
    await writeDataset(await gpu(), dir, synthConfig('tiny', { subject: 'rig', seed: 2, frames: 12 }));
    const ds = await loadDataset(dir);
    for (const split of SPLITS) {
      const s = ds.splits[split];
      const cams = [...new Set(s.frames.map((f) => f.cameraIndex))];
      const az = (c: number) => Math.abs(ds.meta.cameras.find((x) => x.camera_index === c)!.azimuth_deg);
      const cam = cams.sort((a, b) => az(a) - az(b))[0]!;
      const frames = s.frames.filter((f) => f.cameraIndex === cam);
      let open = 0;
      // The evaluation's default threshold (lib/edit/config.ts eval.mouthOpenFraction).
      for (const f of frames) if (fraction((await loadFrameImages(f)).labels, (l) => interior.has(l)) >= 0.002) open++;
      expect(open / frames.length, `${split}: ${open} of ${frames.length} frames mouth-open`).toBeGreaterThanOrEqual(1 / 3);
    }
  }, 300_000);
});
