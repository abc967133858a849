/**
 * The ray marcher against its float64 reference, the compositing and the whole field → image map against
 * float64 references with central finite differences (the tfjs autodiff gradient of every parameter group).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { releaseGpu } from '../../lib/gpu/device.js';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { download, upload } from '../../lib/gpu/buffers.js';
import { triangleFrames } from '../../lib/head/frames.js';
import { intrinsicsFromFov, lookAt, makeCamera } from '../../lib/raster/camera.js';
import { poseGeometry, uploadDeformFrame } from '../../lib/nerf/deform.js';
import { marchReference, type CanonicalBox } from '../../lib/nerf/march-reference.js';
import { RayMarcher } from '../../lib/nerf/march.js';
import { composite, compositeReference } from '../../lib/nerf/composite.js';
import { fieldSchema, occupancySchema } from '../../lib/nerf/config.js';
import { OccupancyGrid } from '../../lib/nerf/occupancy.js';
import { FIELD_PARAMS, NerfField, fieldReference, initFieldArrays, type FieldArrays } from '../../lib/nerf/field.js';
import { renderSamples } from '../../lib/nerf/render.js';
import { Rng } from '../../lib/util/random.js';

afterAll(async () => {
  await releaseGpu();
});

/** A bumpy UV sphere of radius ~0.1 m and a twisted copy of it (the "posed" mesh). */
function scene(rng: Rng) {
  const rings = 8,
    segs = 12;
  const verts: number[] = [];
  for (let i = 0; i <= rings; i++)
    for (let j = 0; j < segs; j++) {
      const th = (Math.PI * i) / rings,
        ph = (2 * Math.PI * j) / segs,
        r = 0.1 * (1 + 0.1 * rng.next());
      verts.push(r * Math.sin(th) * Math.cos(ph), r * Math.cos(th), r * Math.sin(th) * Math.sin(ph));
    }
  const faces: number[] = [];
  for (let i = 0; i < rings; i++)
    for (let j = 0; j < segs; j++) {
      const a = i * segs + j,
        b = i * segs + ((j + 1) % segs),
        c = a + segs,
        d = b + segs;
      if (i > 0) faces.push(a, b, c);
      if (i < rings - 1) faces.push(b, d, c);
    }
  const posed = verts.map((v, i) => (i % 3 === 0 ? v + 0.3 * verts[i + 1]! * verts[i + 1]! : v));
  const triangles = Uint32Array.from({ length: faces.length / 3 }, (_, i) => i);
  const maxDist = 0.02;
  const geometry = poseGeometry(posed, faces, triangles, triangleFrames(verts, faces), maxDist);
  const box: CanonicalBox = { lo: [-0.13, -0.13, -0.13], size: 0.26 };
  const camera = makeCamera(intrinsicsFromFov(24, 18, 40), lookAt([0.05, 0.1, 0.45], [0, 0, 0]));
  return { geometry, box, camera };
}

describe('ray marcher (webgpu)', () => {
  it('keeps the same samples at the same canonical points as the float64 reference', async () => {
    const ctx = await useTfjsWebGpu();
    const rng = new Rng(2);
    const { geometry, box, camera } = scene(rng);
    const G = 4;
    const occ = Float32Array.from({ length: G ** 3 }, () => (rng.next() < 0.7 ? 1 : 0));
    const pixels = Uint32Array.from({ length: 200 }, () => rng.int(camera.width * camera.height));
    const spec = { camera, box, samples: 24, jitterSeed: 7, occupancy: occ, occupancyResolution: G };
    const ref = marchReference({ ...spec, geometry }, pixels);
    const frame = uploadDeformFrame(ctx, geometry);
    const marcher = new RayMarcher(ctx);
    const m = await marcher.march({ ...spec, frame, occupancy: upload(ctx.device, occ) }, pixels, pixels.length);
    const idx = await m.denseIndex.data(),
      pts = await m.points.data(),
      delta = await m.delta.data();
    for (let r = 0; r < pixels.length; r++) expect(delta[r]).toBeCloseTo(ref.delta[r]!, 6);
    const gpu = new Map<number, number[]>();
    idx.forEach((d, k) => gpu.set(d, [pts[3 * k]!, pts[3 * k + 1]!, pts[3 * k + 2]!]));
    expect(ref.denseIndex.length).toBeGreaterThan(200);
    let same = 0;
    ref.denseIndex.forEach((d, k) => {
      const g = gpu.get(d);
      if (g && g.every((v, a) => Math.abs(v - ref.points[3 * k + a]!) < 1e-4)) same++;
    });
    // The rest: float32 ties between triangles and samples on the maxDist or occupancy-cell boundary.
    expect(same).toBeGreaterThan(0.97 * ref.denseIndex.length);
    expect(Math.abs(gpu.size - ref.denseIndex.length)).toBeLessThan(0.03 * ref.denseIndex.length);
    frame.destroy();
  });
});

describe('compositing and the field (webgpu)', () => {
  it('composite: value and gradient equal the float64 reference and its finite differences', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(3);
    const R = 5,
      S = 7,
      M = 20;
    const dense = Int32Array.from([...Array(R * S).keys()].sort(() => rng.next() - 0.5).slice(0, M));
    const sigma = Float64Array.from({ length: M }, () => 40 * rng.next());
    const rgb = Float64Array.from({ length: 3 * M }, () => rng.next());
    const delta = Float64Array.from({ length: R }, () => 0.01 + 0.01 * rng.next());
    const bg: [number, number, number] = [0.2, 0.9, 0.5];
    const wc = Float64Array.from({ length: 3 * R }, () => rng.normal()),
      wa = Float64Array.from({ length: R }, () => rng.normal());
    const lossRef = (s: Float64Array, c: Float64Array) => {
      const o = compositeReference(s, c, dense, delta, S, bg);
      return o.color.reduce((a, v, i) => a + wc[i]! * v, 0) + o.alpha.reduce((a, v, i) => a + wa[i]! * v, 0);
    };
    const idx = tf.tensor1d(dense, 'int32'),
      dt = tf.tensor1d(Float32Array.from(delta));
    const [gs, gc] = tf.grads((s: tf.Tensor, c: tf.Tensor) => {
      const o = composite(s as tf.Tensor1D, c as tf.Tensor2D, idx, dt, S, bg);
      return o.color
        .mul(tf.tensor2d(Float32Array.from(wc), [R, 3]))
        .sum()
        .add(o.alpha.mul(tf.tensor1d(Float32Array.from(wa))).sum());
    })([tf.tensor1d(Float32Array.from(sigma)), tf.tensor2d(Float32Array.from(rgb), [M, 3])]);
    const out = composite(tf.tensor1d(Float32Array.from(sigma)), tf.tensor2d(Float32Array.from(rgb), [M, 3]), idx, dt, S, bg);
    const ref = compositeReference(sigma, rgb, dense, delta, S, bg);
    (await out.color.data()).forEach((v, i) => expect(v).toBeCloseTo(ref.color[i]!, 5));
    const h = 1e-6;
    const gsd = await gs!.data(),
      gcd = await gc!.data();
    for (let k = 0; k < M; k++) {
      const p = sigma.slice(),
        q = sigma.slice();
      p[k]! += h;
      q[k]! -= h;
      expect(gsd[k]).toBeCloseTo((lossRef(p, rgb) - lossRef(q, rgb)) / (2 * h), 4);
    }
    for (let k = 0; k < 3 * M; k++) {
      const p = rgb.slice(),
        q = rgb.slice();
      p[k]! += h;
      q[k]! -= h;
      expect(gcd[k]).toBeCloseTo((lossRef(sigma, p) - lossRef(sigma, q)) / (2 * h), 4);
    }
  });

  it('field → image: every parameter group’s gradient equals a central finite difference of the float64 reference', async () => {
    const ctx = await useTfjsWebGpu();
    const rng = new Rng(4);
    const { geometry, box, camera } = scene(rng);
    const cfg = fieldSchema.parse({
      hashGrid: { levels: 4, log2TableSize: 8, features: 2, baseResolution: 2, perLevelScale: 2, initScale: 1 },
      hidden: 8,
      geoFeatures: 3,
      expressionConditioning: true,
      densityBias: 3,
    });
    const E = 5;
    const init = initFieldArrays(cfg, E, 11);
    const field = new NerfField(cfg, E, init);
    const expr = Float32Array.from({ length: E }, () => rng.normal());
    const frame = uploadDeformFrame(ctx, geometry);
    const pixels = Uint32Array.from({ length: 40 }, (_, i) => (i * 37) % (camera.width * camera.height));
    const m = await new RayMarcher(ctx).march(
      { camera, frame, box, samples: 16, jitterSeed: null, occupancy: upload(ctx.device, new Float32Array([1])), occupancyResolution: 1 },
      pixels,
      pixels.length,
    );
    expect(m.count).toBeGreaterThan(30);
    const pts = Float64Array.from(await m.points.data()),
      dense = await m.denseIndex.data(),
      delta = Float64Array.from(await m.delta.data());
    const bg: [number, number, number] = [1, 1, 1];
    const wts = Float64Array.from({ length: 3 * pixels.length }, () => rng.normal());
    const w = tf.tensor2d(Float32Array.from(wts), [pixels.length, 3]);
    const e = tf.tensor1d(expr);
    const { grads } = tf.variableGrads(() => renderSamples(field, m, bg, e).color.mul(w).sum() as tf.Scalar, field.variables());
    const lossRef = (p: FieldArrays) => {
      const f = fieldReference(cfg, p, pts, expr);
      return compositeReference(f.sigma, f.rgb, dense, delta, m.samples, bg).color.reduce((a, v, i) => a + wts[i]! * v, 0);
    };
    const base: FieldArrays = { ...init };
    for (const name of FIELD_PARAMS) base[name] = Float64Array.from(init[name]);
    const valueTf = (await renderSamples(field, m, bg, e).color.mul(w).sum().data())[0]!;
    expect(valueTf).toBeCloseTo(lossRef(base), 3);
    for (const name of FIELD_PARAMS) {
      const g = (await grads[field.params[name].name]!.data()) as Float32Array;
      const v = Float64Array.from({ length: g.length }, () => rng.normal());
      const h = 1e-5;
      const shifted = (s: number) => ({ ...base, [name]: base[name].map((x, i) => x + s * h * v[i]!) }) as FieldArrays;
      const fd = (lossRef(shifted(1)) - lossRef(shifted(-1))) / (2 * h);
      const an = g.reduce((a, x, i) => a + x * v[i]!, 0);
      expect(Math.abs(an - fd), `${name}: autodiff ${an}, finite difference ${fd}`).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
    }
    frame.destroy();
  });
});

describe('occupancy grid (webgpu)', () => {
  it('starts all occupied, then follows max(decay · old, σ) against the threshold', async () => {
    await useTfjsWebGpu();
    const cfg = fieldSchema.parse({
      hashGrid: { levels: 2, log2TableSize: 6, baseResolution: 2, initScale: 0 },
      hidden: 4,
      geoFeatures: 1,
      expressionConditioning: false,
    });
    const occ = new OccupancyGrid(occupancySchema.parse({ resolution: 4, threshold: 1, decay: 0.5, every: 2, warmup: 3 }));
    expect(await occ.occupiedFraction()).toBe(1);
    expect([0, 2, 3, 4, 5].map((s) => occ.due(s))).toEqual([false, false, true, false, true]);
    // Zero tables and zero first-layer weights: σ = exp(densityBias) everywhere.
    const make = (bias: number) => {
      const a = initFieldArrays({ ...cfg, densityBias: bias }, 0, 1);
      a.d1W.fill(0);
      return new NerfField(cfg, 0, a);
    };
    const dense = make(Math.log(3)),
      sparse = make(Math.log(0.1));
    occ.update(dense, 1);
    expect(await occ.occupiedFraction()).toBe(1); // σ = 3 > 1
    // The marcher reads the flags' buffer as float32: 1.0, not an integer bit pattern.
    const ctx = await useTfjsWebGpu();
    expect(Array.from(await download(ctx.device, occ.buffer(), Float32Array, 64))).toEqual(new Array(64).fill(1));
    occ.update(sparse, 2);
    expect(await occ.occupiedFraction()).toBe(1); // max(0.5 · 3, 0.1) = 1.5 > 1
    occ.update(sparse, 3);
    expect(await occ.occupiedFraction()).toBe(0); // max(0.75, 0.1) ≤ 1
    const snap = await occ.snapshot();
    expect(snap.updates).toBe(3);
    expect(snap.estimate[0]).toBeCloseTo(0.75, 5);
  });
});
