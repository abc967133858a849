import { describe, expect, it } from 'vitest';
import {
  OfflineEditor,
  OracleEditor,
  IdentityEditor,
  editReachPixels,
  offlineEditorConfig,
  type EditGroundTruth,
  type OfflineEditTrace,
  type OfflineEditorOptions,
} from '../../lib/edit/editors/offline.js';
import { ToyGroundTruth, TOY_EDITS } from '../../lib/edit/editors/toy.js';
import { EditInputError, editRequest, type EditRequest, type EditView } from '../../lib/edit/editors/editor.js';
import { Region } from '../../lib/head/regions.js';
import { Rng } from '../../lib/util/random.js';
import { readPng, type RgbImage } from '../../lib/util/image.js';
import { editorFigures } from '../../lib/edit/editors/figures.js';
import { editTargetOf } from '../../lib/edit/editors/ground-truth.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { promises as fs } from 'node:fs';

const W = 32;
const gt = new ToyGroundTruth(W, W);
const GOLD = 'turn his teeth gold';
const TATTOO = 'add a tattoo on the left cheek';

/** Every failure mode off: what remains is the GT edit mixed with the render, and the render leak. */
const QUIET: OfflineEditorOptions = {
  occlusion: { paintOccluderRate: 0 },
  cameraBias: { strength: 0, colour: 0 },
  timestepBias: { strength: 0, colour: 0 },
  misplacement: { shift: 0, rotation: 0 },
  texture: { amplitude: 0 },
  jitter: { colour: 0 },
};

const view = (camera: number, timestep: number): EditView => ({ subject: 'toy', camera, timestep });

function req(v: EditView, opts: Partial<EditRequest> = {}, instruction = GOLD): EditRequest {
  const original = gt.original(v);
  return editRequest({ image: noisy(original, 99), original, instruction, seed: 5, strength: 0.9, view: v, ...opts });
}

function noisy(img: RgbImage, seed: number, amp = 0.08): RgbImage {
  const rng = new Rng(seed);
  return { ...img, data: img.data.map((v) => Math.min(1, Math.max(0, v + amp * (rng.next() - 0.5)))) };
}

/** Renders as different as can be: black, white, noise, over-range, another view's GT edit, a half-fitted one. */
function renders(r: EditRequest): [string, RgbImage][] {
  const n = r.image.data.length;
  const rng = new Rng(3);
  const other = gt.original(view(2, 1));
  return [
    ['captured', r.original],
    ['black', { ...r.image, data: new Float32Array(n) }],
    ['white', { ...r.image, data: new Float32Array(n).fill(1) }],
    ['uniform noise', { ...r.image, data: new Float32Array(n).map(() => rng.next()) }],
    ['over-range', { ...r.image, data: new Float32Array(n).map((_, i) => (i % 2 ? 7 : -3)) }],
    ['another view', other],
    ['half-fitted', noisy(r.original, 11, 0.3)],
  ];
}

async function gtOf(r: EditRequest) {
  return (await gt.lookup(r.view!, r.instruction))!;
}

function editMask(g: { original: RgbImage; edited: RgbImage }): Uint8Array {
  const m = new Uint8Array(W * W);
  for (let p = 0; p < W * W; p++) for (let c = 0; c < 3; c++) if (Math.abs(g.edited.data[3 * p + c]! - g.original.data[3 * p + c]!) > 0.5 / 255) m[p] = 1;
  return m;
}

/** Distance (pixels, Euclidean) from every pixel to the nearest pixel of `mask`, and the mask's radius about its centroid. */
function distances(mask: Uint8Array): { dist: Float64Array; radius: number } {
  const pts: [number, number][] = [];
  for (let p = 0; p < W * W; p++) if (mask[p]) pts.push([p % W, Math.floor(p / W)]);
  const cx = pts.reduce((s, q) => s + q[0], 0) / pts.length;
  const cy = pts.reduce((s, q) => s + q[1], 0) / pts.length;
  const radius = Math.max(...pts.map(([x, y]) => Math.hypot(x - cx, y - cy)));
  const dist = new Float64Array(W * W).map((_, p) => Math.min(...pts.map(([x, y]) => Math.hypot(x - (p % W), y - Math.floor(p / W)))));
  return { dist, radius };
}

function meanOver(img: RgbImage, mask: Uint8Array): number[] {
  const m = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < W * W; p++) {
    if (!mask[p]) continue;
    n++;
    for (let c = 0; c < 3; c++) m[c]! += img.data[3 * p + c]!;
  }
  return m.map((v) => v / n);
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('offline editor (InstructPix2Pix stand-in)', () => {
  it('keeps every pixel outside the edit within renderLeak·(1 − t) of the captured image, for any render', async () => {
    const ed = new OfflineEditor(gt, { seed: 4 }); // every failure mode at its default
    const cfg = ed.config;
    let checked = 0;
    for (const instruction of [GOLD, TATTOO, 'make his lips blue']) {
      for (const [v, strength] of [
        [view(1, 3), 0.7],
        [view(0, 4), 0.98],
        [view(2, 2), 0.85],
        [view(1, 0), 0.7],
      ] as const) {
        const base = req(v, { strength }, instruction);
        const g = await gtOf(base);
        const mask = editMask(g);
        const tol = cfg.renderLeak * (1 - strength) + 1e-6;
        const far = new Uint8Array(W * W);
        if (mask.some((x) => x)) {
          const { dist, radius } = distances(mask);
          const reach = editReachPixels(cfg, W, W, radius);
          for (let p = 0; p < W * W; p++) far[p] = dist[p]! > reach ? 1 : 0;
        } else {
          far.fill(1);
        }
        for (let seed = 0; seed < 6; seed++) {
          for (const [name, image] of renders(base)) {
            const trace = {} as OfflineEditTrace;
            const out = await ed.edit({ ...base, image, seed }, trace);
            for (let p = 0; p < W * W; p++) {
              // A hidden target's paint lands on its occluder: an edit too, checked in its own test.
              if (!far[p] || (trace.paintedOccluder !== null && g.labels[p] === trace.paintedOccluder)) continue;
              for (let c = 0; c < 3; c++) {
                const d = Math.abs(out.data[3 * p + c]! - base.original.data[3 * p + c]!);
                if (d > tol) expect.fail(`${instruction} ${name} t${v.timestep} cam${v.camera} seed ${seed}: pixel ${p} is ${d} from the captured image`);
                checked++;
              }
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100_000);
  });

  it('puts the captured image where the edit is not, exactly, with renderLeak 0; the render only where it lands, by the strength', async () => {
    const ed = new OfflineEditor(gt, { ...QUIET, renderLeak: 0 });
    const base = req(view(1, 3), { strength: 0.75 });
    const g = await gtOf(base);
    const mask = editMask(g);
    expect(mask.reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    const [, black] = renders(base)[1]!;
    const [, white] = renders(base)[2]!;
    const a = await ed.edit({ ...base, image: black });
    const b = await ed.edit({ ...base, image: white });
    for (let p = 0; p < W * W; p++) {
      for (let c = 0; c < 3; c++) {
        const i = 3 * p + c;
        if (!mask[p]) {
          expect(a.data[i]).toBe(base.original.data[i]);
          expect(b.data[i]).toBe(base.original.data[i]);
        } else {
          // out = t·E + (1 − t)·R on the edit region.
          expect(a.data[i]).toBeCloseTo(0.75 * g.edited.data[i]!, 6);
          expect(b.data[i]! - a.data[i]!).toBeCloseTo(0.25, 6);
        }
      }
    }
    // Without coupling the edit replaces the render: the GT edit exactly.
    const full = await new OfflineEditor(gt, { ...QUIET, renderLeak: 0, strengthCoupling: false }).edit({ ...base, image: black });
    expect(Array.from(full.data)).toEqual(Array.from(g.edited.data));
  });

  it('oracle returns the GT edit exactly and identity the captured image, whatever the render', async () => {
    const oracle = new OracleEditor(gt);
    const identity = new IdentityEditor();
    for (const instruction of Object.keys(TOY_EDITS)) {
      for (const v of [view(0, 0), view(1, 3), view(2, 5)]) {
        const base = req(v, {}, instruction);
        const g = await gtOf(base);
        for (const [, image] of renders(base)) {
          const o = await oracle.edit({ ...base, image });
          expect(Array.from(o.data)).toEqual(Array.from(g.edited.data));
          const i = await identity.edit({ ...base, image });
          expect(Array.from(i.data)).toEqual(Array.from(base.original.data));
          expect(i.data).not.toBe(base.original.data);
        }
      }
    }
    expect(maxAbs((await oracle.edit(req(view(1, 3)))).data, req(view(1, 3)).original.data)).toBeGreaterThan(0.3);
    expect(oracle.describe()).toEqual({ id: 'oracle', settings: { groundTruth: gt.id } });
    expect(identity.describe().id).toBe('identity');
  });

  it('biases each camera the same way on every call, and cameras differently; averaging calls keeps it', async () => {
    // Camera bias only; timesteps 3 and 4 show the same toy frame, so the two calls differ in timestep, seed and render.
    const ed = new OfflineEditor(gt, { ...QUIET, cameraBias: { strength: 0.25, colour: 0.06 }, renderLeak: 0, strengthCoupling: false, seed: 2 });
    const bias: number[][] = [];
    for (const camera of [0, 1, 2]) {
      const r1 = req(view(camera, 3), { seed: 1 });
      const r2 = req(view(camera, 4), { seed: 2, image: noisy(r1.original, 8, 0.5) });
      const g = await gtOf(r1);
      const mask = editMask(g);
      const o1 = await ed.edit(r1);
      const o2 = await ed.edit(r2);
      expect(Array.from(o2.data)).toEqual(Array.from(o1.data));
      const m = meanOver(o1, mask);
      const e = meanOver(g.edited, mask);
      bias.push(m.map((x, c) => x - e[c]!));
    }
    for (const b of bias) expect(Math.hypot(...b)).toBeGreaterThan(0.01);
    for (const [i, j] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      expect(Math.hypot(...bias[i]!.map((x, c) => x - bias[j]![c]!)), `cameras ${i} and ${j}`).toBeGreaterThan(0.02);
    }
    // Per-timestep bias: the same camera at two timesteps that show the same frame now differs.
    const et = new OfflineEditor(gt, { ...QUIET, timestepBias: { strength: 0.1, colour: 0.03 }, renderLeak: 0, seed: 2 });
    const t3 = await et.edit(req(view(1, 3)));
    const t4 = await et.edit(req(view(1, 4)));
    expect(maxAbs(t3.data, t4.data)).toBeGreaterThan(0.01);
    expect(Array.from((await et.edit(req(view(1, 3), { seed: 77 }))).data)).toEqual(Array.from(t3.data));
    // With the per-call jitter on, the mean over 24 calls (seeds) of one view keeps the camera's offset: not zero-mean per call.
    const def = new OfflineEditor(gt, {
      seed: 2,
      strengthCoupling: false,
      renderLeak: 0,
      timestepBias: { strength: 0, colour: 0 },
      misplacement: { shift: 0, rotation: 0 },
      texture: { amplitude: 0 },
    });
    const r = req(view(0, 3));
    const g = await gtOf(r);
    const mask = editMask(g);
    const avg = [0, 0, 0];
    for (let seed = 0; seed < 24; seed++) meanOver(await def.edit({ ...r, seed }), mask).forEach((x, c) => (avg[c]! += x / 24));
    const e = meanOver(g.edited, mask);
    expect(Math.hypot(...avg.map((x, c) => x - e[c]! - bias[0]![c]!))).toBeLessThan(0.02);
  });

  it('edits only what the view shows: a hidden target gets nothing, or its occluder is painted at the configured rate', async () => {
    const closed = req(view(1, 0));
    const labels = (await gtOf(closed)).labels;
    expect(labels.includes(Region.teeth)).toBe(false);
    const lips = new Uint8Array(W * W).map((_, p) => (labels[p] === Region.lips ? 1 : 0));
    const lipsN = lips.reduce((a, b) => a + b, 0);
    expect(lipsN).toBeGreaterThan(20);

    // Rate 0: nothing at all, whatever the other failure modes.
    const none = await new OfflineEditor(gt, { occlusion: { paintOccluderRate: 0 }, renderLeak: 0 }).edit(closed);
    expect(Array.from(none.data)).toEqual(Array.from(closed.original.data));

    const rate = 0.3;
    const ed = new OfflineEditor(gt, { occlusion: { paintOccluderRate: rate }, renderLeak: 0, misplacement: { shift: 0, rotation: 0 } });
    const n = 300;
    let painted = 0;
    for (let seed = 0; seed < n; seed++) {
      const trace = {} as OfflineEditTrace;
      const out = await ed.edit({ ...closed, seed }, trace);
      const lipsMoved = maxAbs(out.data, closed.original.data) > 0.05;
      expect(lipsMoved).toBe(trace.paintedOccluder === Region.lips);
      if (!lipsMoved) continue;
      painted++;
      // Gold on the lips: the red-minus-blue gap grows toward gold's, blue drops; nothing else moves.
      const m = meanOver(out, lips);
      const c = meanOver(closed.original, lips);
      expect(m[1]! - m[2]!).toBeGreaterThan(c[1]! - c[2]! + 0.1);
      for (let p = 0; p < W * W; p++) if (!lips[p]) for (let k = 0; k < 3; k++) expect(out.data[3 * p + k]).toBe(closed.original.data[3 * p + k]);
    }
    // Binomial(300, 0.3): mean 90, σ ≈ 7.9; ±4σ.
    expect(painted).toBeGreaterThan(n * rate - 32);
    expect(painted).toBeLessThan(n * rate + 32);

    // Never when the target is visible: the lips stay captured on every call at rate 1.
    const always = new OfflineEditor(gt, { occlusion: { paintOccluderRate: 1 }, renderLeak: 0, misplacement: { shift: 0, rotation: 0 } });
    const open = req(view(1, 3));
    const openLips = (await gtOf(open)).labels;
    for (let seed = 0; seed < 40; seed++) {
      const trace = {} as OfflineEditTrace;
      const out = await always.edit({ ...open, seed }, trace);
      expect(trace.hidden).toBe(false);
      expect(trace.paintedOccluder).toBeNull();
      for (let p = 0; p < W * W; p++)
        if (openLips[p] === Region.lips) for (let k = 0; k < 3; k++) expect(out.data[3 * p + k]).toBe(open.original.data[3 * p + k]);
    }
    // ...and at rate 1 a hidden target is always painted.
    expect(maxAbs((await always.edit(closed)).data, closed.original.data)).toBeGreaterThan(0.05);
  });

  it('misplaces a local edit per view (the tattoo moves between cameras and stays put for one view), not a large one', async () => {
    const ed = new OfflineEditor(gt, { ...QUIET, misplacement: { shift: 0.04, rotation: 0.3 }, renderLeak: 0, strengthCoupling: false, seed: 1 });
    const shifts: number[] = [];
    for (const camera of [0, 1, 2]) {
      const r = req(view(camera, 2), {}, TATTOO);
      const g = await gtOf(r);
      const trace = {} as OfflineEditTrace;
      const out = await ed.edit(r, trace);
      expect(trace.misplaced).toBe(true);
      expect(Array.from((await ed.edit({ ...r, seed: 123, image: noisy(r.original, 4) })).data)).toEqual(Array.from(out.data));
      shifts.push(maxAbs(out.data, g.edited.data));
    }
    for (const d of shifts) expect(d).toBeGreaterThan(0.1); // ink where the GT has skin, or skin where it has ink
    // Green hair covers more than maxAreaFraction: not moved, the GT edit exactly.
    const hair = req(view(1, 2), {}, 'give him green hair');
    const trace = {} as OfflineEditTrace;
    const out = await new OfflineEditor(gt, {
      ...QUIET,
      misplacement: { shift: 0.04, rotation: 0.3, maxAreaFraction: 0.05 },
      renderLeak: 0,
      strengthCoupling: false,
    }).edit(hair, trace);
    expect(trace.misplaced).toBe(false);
    expect(Array.from(out.data)).toEqual(Array.from((await gtOf(hair)).edited.data));
  });

  it('adds per-view texture detail that averaging views does not keep', async () => {
    const ed = new OfflineEditor(gt, { ...QUIET, texture: { amplitude: 0.2, cellPixels: 2 }, renderLeak: 0, strengthCoupling: false });
    const r = req(view(1, 2), {}, 'give him green hair');
    const g = await gtOf(r);
    const mask = editMask(g);
    // High-frequency energy: mean |Laplacian| over the interior of the edit region, relative to the GT edit.
    const hf = (img: RgbImage) => {
      let s = 0;
      let n = 0;
      for (let y = 1; y < W - 1; y++)
        for (let x = 1; x < W - 1; x++) {
          const p = y * W + x;
          if (!(mask[p] && mask[p - 1] && mask[p + 1] && mask[p - W] && mask[p + W])) continue;
          n++;
          for (let c = 0; c < 3; c++) {
            const v = (q: number) => img.data[3 * q + c]!;
            s += Math.abs(4 * v(p) - v(p - 1) - v(p + 1) - v(p - W) - v(p + W));
          }
        }
      return s / n;
    };
    const views = [];
    for (let t = 2; t < 10; t++) views.push(await ed.edit({ ...r, view: view(1, t) })); // the same frame (labels depend on camera and opening)
    const same = await ed.edit({ ...r, seed: 9 });
    expect(Array.from(same.data)).toEqual(Array.from(views[0]!.data));
    const avg = { ...r.image, data: new Float32Array(W * W * 3) };
    for (const v of views) v.data.forEach((x, i) => (avg.data[i]! += x / views.length));
    expect(hf(views[0]!)).toBeGreaterThan(hf(g.edited) + 0.1);
    // Averaged over 8 views the detail drops by about √8; the GT edit's own edges stay.
    expect(hf(avg) - hf(g.edited)).toBeLessThan(0.5 * (hf(views[0]!) - hf(g.edited)));
  });

  it('is deterministic by seed: the same request and config give the same image; the editor seed changes it', async () => {
    const r = req(view(0, 3), { seed: 11 }, TATTOO);
    const a = await new OfflineEditor(gt, { seed: 3 }).edit(r);
    const b = await new OfflineEditor(gt, { seed: 3 }).edit(req(view(0, 3), { seed: 11 }, TATTOO));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    const c = await new OfflineEditor(gt, { seed: 4 }).edit(r);
    expect(maxAbs(a.data, c.data)).toBeGreaterThan(0.02);
    const d = await new OfflineEditor(gt, { seed: 3 }).edit({ ...r, seed: 12 });
    expect(maxAbs(a.data, d.data)).toBeGreaterThan(0); // per-call jitter
    expect(maxAbs(a.data, d.data)).toBeLessThan(0.2);
  });

  it('describes every knob (the cache keys on them), and rejects bad requests and configs with errors naming the field', async () => {
    const d = new OfflineEditor(gt, { seed: 7 }).describe();
    const cfg = offlineEditorConfig({});
    expect(d.settings).toEqual({ model: 'ip2p-conditioned-v2', ...cfg, seed: 7, groundTruth: gt.id });
    const flat = (o: unknown, pre = ''): string[] =>
      typeof o === 'object' && o !== null ? Object.entries(o).flatMap(([k, v]) => flat(v, pre ? `${pre}.${k}` : k)) : [pre];
    expect(flat(d.settings)).toEqual(
      expect.arrayContaining([
        'occlusion.paintOccluderRate',
        'cameraBias.colour',
        'timestepBias.strength',
        'misplacement.rotation',
        'texture.cellPixels',
        'jitter.colour',
        'renderLeak',
      ]),
    );
    expect(new OfflineEditor(gt, { texture: { amplitude: 0.1 } }).describe()).not.toEqual(new OfflineEditor(gt).describe());

    const ed = new OfflineEditor(gt);
    const { view: v, ...noView } = req(view(1, 3));
    expect(v).toBeDefined();
    await expect(ed.edit(noView as EditRequest)).rejects.toThrow(/request\.view is required/);
    await expect(ed.edit(req(view(1, 3), {}, 'make him a cat'))).rejects.toThrow(EditInputError);
    await expect(ed.edit(req(view(1, 3), { strength: 1.5 }))).rejects.toThrow(/request\.strength/);
    const nan = req(view(1, 3));
    nan.image.data[5] = NaN;
    await expect(ed.edit(nan)).rejects.toThrow(/request\.image has a non-finite value at index 5/);
    const small: EditGroundTruth = { id: 'small', lookup: async (x, i) => new ToyGroundTruth(16, 16).lookup(x, i) };
    await expect(new OfflineEditor(small).edit(req(view(1, 3)))).rejects.toThrow(/ground truth original for toy\/cam1\/t3 is 16x16, the request 32x32/);
    await expect(new OracleEditor(small).edit(req(view(1, 3)))).rejects.toThrow(/oracle editor: ground truth original/);
    expect(() => new OfflineEditor(gt, { inconsistency: 2 })).toThrow(/offline editor config: inconsistency/);
    expect(() => new OfflineEditor(gt, { occlusion: { paintOccluderRate: -1 } })).toThrow(/occlusion\.paintOccluderRate/);
    expect(() => new OfflineEditor(gt, { bleedStrength: 0.3 } as OfflineEditorOptions)).toThrow(/bleedStrength/);
  });

  it("docs/editing.md's pictures are what the figure generator makes now, and stay small", async () => {
    let bytes = 0;
    for (const f of await editorFigures()) {
      const file = `docs/images/editor-${f.name}.png`;
      bytes += (await fs.stat(file)).size;
      const png = await readPng(file);
      expect([png.rgb.width, png.rgb.height], file).toEqual([f.image.width, f.image.height]);
      const want = f.image.data.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255);
      expect(maxAbs(png.rgb.data, want), `${file}: rerun npm run figures:editor`).toBeLessThan(1e-6);
    }
    expect(bytes).toBeLessThan(200 * 1024);
  });

  it("takes the synthetic head's edit target from its textures: the edit's albedo and each region's", async () => {
    const model = await loadHeadModel();
    const ds = { meta: { texture_seed: 3, texture_tile_size: 32 } } as Parameters<typeof editTargetOf>[0];
    const gold = editTargetOf(ds, 'gold-teeth', model);
    expect(gold.regions).toEqual([Region.teeth]);
    // lib/head/edits.ts recolours teeth to (0.95, 0.74, 0.22)·l: the channel ratios survive the mean.
    expect(gold.colour[1] / gold.colour[0]).toBeCloseTo(0.74 / 0.95, 1);
    expect(gold.colour[2] / gold.colour[0]).toBeCloseTo(0.22 / 0.95, 1);
    const lips = gold.albedo[Region.lips]!;
    expect(lips[0]).toBeGreaterThan(lips[1] + 0.1); // reddish lips
    expect(editTargetOf(ds, 'green-skin', model).albedo).toEqual(gold.albedo); // the unedited texture's
  });
});
