/**
 * WABE's mechanism (docs/method.md §4) end to end through the real editing loop (`editAvatar`), on a toy:
 * a semi-transparent occluder (the lips, opacity 0.6) 8 cm in front of an opaque hidden Gaussian (a tooth).
 * Five cameras look through the lips at the tooth; one looks from the side, where both are in plain sight.
 * The 2D editor recolours the lips only, as a 2D editor does: every pixel it sees as lips becomes blue,
 * the tooth showing through them included, while the side view shows the tooth unedited.
 *
 * With alpha blending the covered views pull the tooth's colour toward the lips' blue (they outweigh the one
 * view that sees it); with WABE the tooth's weight behind the lips is exp(−β·0.6) ≈ 0.03, the side view
 * holds it, and it must drift at least 5× less. Only the colours (SH DC) move, as the editing method's
 * appearance-only default without the opacities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { editAvatar } from '../../lib/edit/loop.js';
import { editConfig } from '../../lib/edit/config.js';
import type { EditRequest, ImageEditor } from '../../lib/edit/editors/editor.js';
import { loadAvatar } from '../../lib/avatar/load.js';
import { SH_C0 } from '../../lib/avatar/gaussians.js';
import type { RgbImage } from '../../lib/util/image.js';
import { gpuFixture } from '../helpers/gpu.js';
import { writeToyScene, type ToyScene } from '../helpers/toy-scene.js';

gpuFixture();

const LIPS: [number, number, number] = [0.8, 0.25, 0.25];
const TOOTH: [number, number, number] = [0.95, 0.95, 0.9];
const BLUE: [number, number, number] = [0.1, 0.2, 0.9];
const ANGLES = [-8, -4, 0, 4, 8, 90];

let root = '';
let scene: ToyScene;
const targets = new Map<number, RgbImage>();

/** Paints every pixel where the lips' coverage is at least 0.25 blue (soft below), whatever shows through. */
class PaintLipsEditor implements ImageEditor {
  readonly id = 'test-paint-lips';
  describe() {
    return { id: this.id, settings: { colour: BLUE } };
  }
  async edit(req: EditRequest): Promise<RgbImage> {
    return targets.get(req.view!.camera)!;
  }
}

beforeAll(async () => {
  await useTfjsWebGpu();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'gae-wabe-'));
  scene = await writeToyScene(
    root,
    [
      { name: 'lips', position: [0, 0, 0], sigma: [0.015, 0.015, 0.015], opacity: 0.6, rgb: LIPS },
      { name: 'tooth', position: [0, 0, 0.08], sigma: [0.01, 0.01, 0.01], opacity: 0.9, rgb: TOOTH },
    ],
    { anglesDeg: ANGLES, radius: 0.4, size: 32, focal: 48, background: [0.3, 0.3, 0.3] },
  );
  for (let cam = 0; cam < ANGLES.length; cam++) {
    const orig = (await scene.render(cam)).color;
    const cover = (await scene.render(cam, { tooth: { opacity: 1e-6 } })).alpha;
    const out = Float32Array.from(orig.data);
    for (let p = 0; p < cover.length; p++) {
      const m = Math.min(1, cover[p]! / 0.25);
      for (let c = 0; c < 3; c++) out[3 * p + c] = (1 - m) * orig.data[3 * p + c]! + m * BLUE[c]!;
    }
    targets.set(cam, { width: orig.width, height: orig.height, data: out });
  }
}, 120_000);

afterAll(async () => {
  scene?.dispose();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

/** Edits the toy with or without WABE; returns how far the tooth's colour moved toward the blue (RGB units). */
async function toothDrift(wabe: boolean): Promise<{ drift: number; lips: number[] }> {
  const runDir = path.join(root, wabe ? 'wabe' : 'alpha');
  const iterations = 150;
  const cfg = editConfig({
    data: scene.data,
    avatar: scene.avatar,
    edit: { id: 'toy', instruction: 'make the lips blue' },
    iterations,
    editEvery: 1000,
    views: { maxViews: 0, initialPass: true },
    optimize: ['shDc'],
    lr: { shDc: 0.02 },
    wabe: { enabled: wabe },
    adversarial: { enabled: false },
    editor: { cacheDir: path.join(root, 'cache') },
    log: { every: iterations },
    checkpoint: { every: iterations },
  });
  const t0 = Date.now();
  await editAvatar(cfg, { runDir, editor: new PaintLipsEditor() });
  console.log(`edit (${wabe ? 'wabe' : 'alpha'}): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const g = await loadAvatar(runDir);
  const rgb = (n: number) => [0, 1, 2].map((c) => SH_C0 * g.sh[3 * n + c]! + 0.5);
  const tooth = rgb(scene.index.tooth!);
  const dir = BLUE.map((b, c) => b - TOOTH[c]!);
  const len = Math.hypot(...dir);
  return { drift: tooth.reduce((s, v, c) => s + (v - TOOTH[c]!) * dir[c]!, 0) / len, lips: rgb(scene.index.lips!) };
}

describe('WABE through the editing loop', () => {
  it("keeps a hidden Gaussian from drifting toward its occluder's edit (≥ 5× less than alpha blending)", async () => {
    const alpha = await toothDrift(false);
    const wabe = await toothDrift(true);
    console.log('tooth drift toward blue: alpha', alpha.drift, 'wabe', wabe.drift, 'lips', alpha.lips, wabe.lips);
    // Alpha blending: the tooth takes part of the lips' edit.
    expect(alpha.drift).toBeGreaterThan(0.1);
    expect(Math.abs(wabe.drift) * 5).toBeLessThan(alpha.drift);
    // The edit itself happened under both: the lips turned blue (blue channel above red).
    for (const l of [alpha.lips, wabe.lips]) expect(l[2]! - l[0]!).toBeGreaterThan(0.3);
  }, 900_000);
});
