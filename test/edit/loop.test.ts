/**
 * The editing loop on the tiny synthetic dataset (lavapipe in CI): a short edit moves the avatar toward the
 * ground-truth edit (PSNR to the GT edit rises by a stated margin over the unedited avatar), and a killed
 * edit run resumes to exactly the uninterrupted result (avatar bytes, adversary and all).
 */
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { AvatarSession } from '../../lib/avatar/session.js';
import { editAvatar, poolImage } from '../../lib/edit/loop.js';
import { loadAvatar, resolveAvatarFile } from '../../lib/avatar/load.js';
import { evaluateEdit } from '../../lib/edit/evaluate.js';
import { methodConfig } from '../../lib/edit/run.js';
import { editConfig, mergeConfig, shownBlend, trainBlend, EDIT_PRESETS, METHOD_PRESETS } from '../../lib/edit/config.js';
import { DEFAULT_WABE, rasterSettings } from '../../lib/raster/types.js';
import { editIdOf } from '../../lib/edit/editors/ground-truth.js';
import type { EditRequest, ImageEditor } from '../../lib/edit/editors/editor.js';
import type { RgbImage } from '../../lib/util/image.js';
import { gpuFixture } from '../helpers/gpu.js';
import { tinyAvatarFixture } from '../helpers/tiny-avatar.js';

gpuFixture();
// A quick reconstruction (no densification): enough of a head for edits to be measured on.
const fx = tinyAvatarFixture('gae-edit-', 60, 900_000);

async function scoreToGt(avatarPath: string, editId: string): Promise<{ head: number; skin: number }> {
  const ctx = await useTfjsWebGpu();
  const session = await AvatarSession.open(fx.data, await loadAvatar(avatarPath));
  try {
    const [s] = await evaluateEdit(ctx, session, { editId, splits: ['test'], framesPerSplit: 6, mouthOpenFraction: 0.002 });
    return { head: s!.regions.head!.psnr, skin: s!.regions.skin!.psnr };
  } finally {
    session.dispose();
  }
}

describe('edit config', () => {
  it('resolves presets and method switches, and names a bad field', () => {
    const c = methodConfig('ours-no-wabe', 'tiny', { data: 'd', avatar: 'a', edit: { id: 'gold-teeth' } });
    expect(c.wabe.enabled).toBe(false);
    expect(c.adversarial.enabled).toBe(true);
    expect(c.iterations).toBe(EDIT_PRESETS.tiny.iterations);
    expect(c.adversarial.lambdaAdv).toBe(0.01);
    expect(c.editor.guidanceScale).toBe(7.5);
    expect(c.editor.strengthRange).toEqual([0.7, 0.98]);
    expect(Object.keys(METHOD_PRESETS).sort()).toEqual(['ga-in2n', 'identity', 'oracle', 'ours', 'ours-no-adv', 'ours-no-wabe']);
    // WABE's options come from one place (DEFAULT_WABE), and the controls run plain blending without the adversary.
    expect(c.wabe).toMatchObject({ beta: DEFAULT_WABE.beta, stopGradient: DEFAULT_WABE.stopGradient, renormalize: DEFAULT_WABE.renormalize });
    expect(rasterSettings({ blend: 'wabe' }).wabe).toEqual(DEFAULT_WABE);
    const ours = methodConfig('ours', 'tiny', { data: 'd', avatar: 'a', edit: { id: 'gold-teeth' } });
    expect(trainBlend(ours)).toEqual({ blend: 'wabe', wabe: { ...DEFAULT_WABE } });
    expect(shownBlend({ ...ours, wabe: { ...ours.wabe, renderEdited: false } }).blend).toBe('alpha');
    expect(trainBlend(c).blend).toBe('alpha');
    for (const m of ['oracle', 'identity'] as const)
      expect(METHOD_PRESETS[m]).toMatchObject({ wabe: { enabled: false }, adversarial: { enabled: false }, editor: { kind: m } });
    expect(() => editConfig({ data: 'd', avatar: 'a', edit: { id: 'x' }, editEvery: 0 }, 'exp.json')).toThrow(/exp\.json: editEvery/);
    expect(() => editConfig(mergeConfig({ data: 'd', avatar: 'a', edit: { id: 'x' } }, { editor: { strengthRange: [0.9, 0.7] } }), 'e.json')).toThrow(
      /e\.json: editor\.strengthRange/,
    );
  });

  it('pools images by an integer factor as tfjs "valid" pooling does', () => {
    const img = { width: 5, height: 3, data: Float32Array.from({ length: 45 }, (_, i) => i) };
    const p = poolImage(img, 2);
    expect([p.width, p.height]).toEqual([2, 1]);
    // pixel (0,0): mean of pixels (0,0),(1,0),(0,1),(1,1), channel 0 = (0 + 3 + 15 + 18) / 4
    expect(p.data[0]).toBeCloseTo(9, 6);
  });

  it("maps instructions to the dataset's edits and says when the avatar path is wrong", async () => {
    const { loadDataset } = await import('../../lib/data/dataset.js');
    const ds = await loadDataset(fx.data);
    expect(editIdOf(ds, '  Turn his TEETH gold ')).toBe('gold-teeth');
    expect(editIdOf(ds, 'green-skin')).toBe('green-skin');
    expect(editIdOf(ds, 'make him a robot')).toBeNull();
    await expect(resolveAvatarFile(path.join(fx.root, 'nowhere'))).rejects.toThrow(
      /nowhere: no such file or directory \(expected a run directory or an avatar \.ply\)/,
    );
  });
});

describe('editing loop (tiny preset)', () => {
  it('a short edit moves the avatar toward the ground-truth edit', async () => {
    const before = await scoreToGt(fx.recon, 'green-skin');
    const cfg = methodConfig('ga-in2n', 'tiny', {
      data: fx.data,
      avatar: fx.recon,
      edit: { id: 'green-skin' },
      iterations: 30,
      editor: { cacheDir: path.join(fx.root, 'cache') },
      eval: { framesPerSplit: 6 },
    });
    const r = await editAvatar(cfg, { runDir: path.join(fx.root, 'edit-green') });
    expect(r.steps).toBe(30);
    expect(r.edits).toBe(12 + 5); // initial pass over 12 views, then one every 5 steps after the first
    const after = await scoreToGt(path.join(fx.root, 'edit-green'), 'green-skin');
    // Measured on lavapipe: head ~+4 dB, skin ~+5 dB. The margins leave room for driver differences.
    expect(after.head - before.head).toBeGreaterThan(2);
    expect(after.skin - before.skin).toBeGreaterThan(2);
  }, 400_000);

  it('edits in flight change wall time, never the result (with and without the adversary)', async () => {
    // A stand-in for a remote editor, a pure function of the request. Each answer is held until a later request
    // arrives (then released after a short seed-dependent delay, so answers can arrive out of order) or `holdMs`
    // passes: whether requests overlap then depends on the loop, not on how fast this machine renders.
    const slowEditor = (holdMs: number): ImageEditor & { most: number } => {
      let inFlight = 0;
      let waiting: (() => void)[] = [];
      const e = {
        id: 'slow',
        most: 0,
        describe: () => ({ id: 'slow', settings: {} }),
        async edit(req: EditRequest): Promise<RgbImage> {
          const earlier = waiting;
          waiting = [];
          inFlight++;
          e.most = Math.max(e.most, inFlight);
          for (const release of earlier) release();
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, holdMs);
            waiting.push(() => {
              clearTimeout(timer);
              setTimeout(resolve, (37 * req.seed) % 40);
            });
          });
          inFlight--;
          const data = new Float32Array(req.image.data.length);
          for (let i = 0; i < data.length; i++) data[i] = 0.5 * req.original.data[i]! + (i % 3 === 1 ? 0.5 * req.strength : 0.1);
          return { width: req.image.width, height: req.image.height, data };
        },
      };
      return e;
    };
    for (const method of ['ga-in2n', 'ours'] as const) {
      const run = async (inFlight: number) => {
        const cfg = methodConfig(method, 'tiny', {
          data: fx.data,
          avatar: fx.recon,
          edit: { id: 'green-skin' },
          iterations: 12,
          editEvery: 2,
          views: { maxViews: 6 },
          adversarial: { warmupEdits: 1 },
          editor: { cacheDir: path.join(fx.root, `cache-${method}-${inFlight}`) },
        });
        const editor = slowEditor(inFlight === 1 ? 100 : 3000);
        const dir = path.join(fx.root, `in-flight-${method}-${inFlight}`);
        const r = await editAvatar(cfg, { runDir: dir, editor, editsInFlight: inFlight });
        const latest = JSON.parse(await fs.readFile(path.join(dir, 'checkpoints', 'latest.json'), 'utf8')) as { dir: string };
        const ck = path.join(dir, 'checkpoints', latest.dir);
        return { r, most: editor.most, ply: await fs.readFile(path.join(ck, 'avatar.ply')), state: await fs.readFile(path.join(ck, 'state.json'), 'utf8') };
      };
      const one = await run(1);
      const four = await run(4);
      expect(one.most).toBe(1);
      expect(four.most).toBeGreaterThan(1); // the initial pass overlapped (and, without the adversary, the updates)
      expect(four.r.edits).toBe(one.r.edits);
      expect(Buffer.compare(one.ply, four.ply)).toBe(0);
      expect(four.state).toBe(one.state);
    }
  }, 600_000);

  it('resumes a killed run (WABE + adversarial) to the uninterrupted result, reusing cached 2D edits', async () => {
    const cfg = methodConfig('ours', 'tiny', {
      data: fx.data,
      avatar: fx.recon,
      edit: { id: 'gold-teeth' },
      iterations: 12,
      views: { maxViews: 6 },
      checkpoint: { every: 6, keep: 3 },
      log: { every: 3 },
      adversarial: { warmupEdits: 2 },
      editor: { cacheDir: path.join(fx.root, 'cache') },
    });
    const full = await editAvatar(cfg, { runDir: path.join(fx.root, 'full') });
    const a = await editAvatar(cfg, { runDir: path.join(fx.root, 'killed'), stopAfter: 6 });
    expect(a.steps).toBe(6);
    const b = await editAvatar(cfg, { runDir: path.join(fx.root, 'killed') });
    expect(b.resumedFrom).toBe(6);
    expect(b.cache.misses).toBe(0); // every 2D edit of the resumed half was computed by the first run
    const [x, y] = await Promise.all([
      fs.readFile(await resolveAvatarFile(path.join(fx.root, 'full'))),
      fs.readFile(await resolveAvatarFile(path.join(fx.root, 'killed'))),
    ]);
    expect(Buffer.compare(x, y)).toBe(0);
    expect(full.edits).toBe(b.edits);
    const metrics = (await fs.readFile(path.join(fx.root, 'killed', 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; dLoss: number | null });
    expect(metrics.map((m) => m.step)).toEqual([3, 6, 9, 12]);
    expect(metrics.some((m) => m.dLoss !== null)).toBe(true); // the discriminator was trained
    // Per step: D trains from step 1; the generator term waits for 2 edits after the 6-view initial pass
    // (made at steps 5 and 10), so it is off through step 10, then on. A resumed run rewrites its tail.
    type Row = { step: number; generator: number | null; dReal: number | null; dFake: number | null };
    const rows = async (dir: string) =>
      (await fs.readFile(path.join(fx.root, dir, 'adversary.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Row);
    const adv = await rows('killed');
    expect(adv.map((r) => r.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(adv).toEqual(await rows('full'));
    expect(adv.every((r) => r.dReal !== null && r.dFake !== null)).toBe(true);
    expect(adv.filter((r) => r.generator !== null).map((r) => r.step)).toEqual([11, 12]);
    // Per-group norms of the mouth interior's gradients and Adam updates, logged with the metrics.
    const last = metrics.at(-1) as unknown as Record<string, number | null>;
    for (const g of ['shDc', 'shRest', 'opacityLogits']) {
      expect(last[`update.all.${g}`]).toBeGreaterThan(0);
      expect(last[`grad.mouth.${g}`]).toBeGreaterThanOrEqual(0);
      expect(last[`update.mouth.${g}`]).toBeGreaterThanOrEqual(0);
    }
  }, 400_000);
});
