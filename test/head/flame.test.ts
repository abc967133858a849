import { describe, expect, it } from 'vitest';
import { parseFlame, type FlameModel } from '../../lib/head/flame/model.js';
import { flameFrame, neutralFlameParams, poseFlame64, type FlameParams } from '../../lib/head/flame/lbs.js';
import { GpuFlamePoser } from '../../lib/head/flame/gpu-pose.js';
import { teethTriangles, TEETH_TRIANGLE_COUNT } from '../../lib/head/flame/teeth.js';
import { Rng } from '../../lib/util/random.js';
import { gpuFixture } from '../helpers/gpu.js';
import { tinyFlame, tinyFlamePickle, type TinyFlame } from '../../lib/ga/demo-flame.js';
import { ndarray } from '../../lib/io/pickle-write.js';

const gpu = gpuFixture();
const FILE = '/subjects/tiny/flame2023.pkl';
const fx = tinyFlame();
const parse = (bytes: Uint8Array) => parseFlame(bytes, FILE, { lipRings: fx.lipRings });
let cached: FlameModel | undefined;
/** The fixture's model (parsed once), or a model from other bytes. */
const load = (bytes?: Uint8Array) => (bytes ? parse(bytes) : (cached ??= parse(tinyFlamePickle(fx))));

function randomParams(m: FlameModel, rng: Rng): FlameParams {
  const p = neutralFlameParams(m);
  for (let k = 0; k < m.shapeCount; k++) p.shape[k] = rng.normal();
  for (let k = 0; k < m.exprCount; k++) p.expr[k] = rng.normal();
  const aa = (s: number): [number, number, number] => [s * rng.normal(), s * rng.normal(), s * rng.normal()];
  p.rotation = aa(0.3);
  p.neck = aa(0.2);
  p.jaw = [0.3 * rng.next(), 0.05 * rng.normal(), 0.02 * rng.normal()];
  p.eyes = [...aa(0.2), ...aa(0.2)];
  p.translation = aa(0.05);
  return p;
}

/**
 * Independent float64 reference on FLAME's own vertices, straight from the fixture's arrays in the
 * pickle's layouts ([V,3,K] blendshapes, dense regressor) with 4×4 homogeneous matrices.
 */
function reference(f: TinyFlame, p: FlameParams, offset?: Float64Array): Float64Array {
  const V = f.V;
  const beta = [...Array.from(p.shape), ...new Array(300 - p.shape.length).fill(0), ...Array.from(p.expr)];
  const vs = new Float64Array(V * 3);
  for (let v = 0; v < V; v++) {
    for (let c = 0; c < 3; c++) {
      let s = f.template[3 * v + c]! + (offset ? offset[3 * v + c]! : 0);
      for (let k = 0; k < beta.length; k++) s += beta[k]! * f.shapedirs[(3 * v + c) * 400 + k]!;
      vs[3 * v + c] = s;
    }
  }
  const J = [0, 1, 2, 3, 4].map((j) =>
    [0, 1, 2].map((c) => {
      let s = 0;
      for (let v = 0; v < V; v++) s += f.jointRegressor[j * V + v]! * vs[3 * v + c]!;
      return s;
    }),
  );
  const rod = (a: number[]) => {
    const t = Math.hypot(a[0]!, a[1]!, a[2]!);
    if (t === 0) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const [x, y, z] = a.map((u) => u / t) as [number, number, number];
    const K = [0, -z, y, z, 0, -x, -y, x, 0];
    const K2 = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => K[3 * r]! * K[c]! + K[3 * r + 1]! * K[3 + c]! + K[3 * r + 2]! * K[6 + c]!));
    return K.map((k, i) => (i % 4 === 0 ? 1 : 0) + Math.sin(t) * k + (1 - Math.cos(t)) * K2[i]!);
  };
  const R = [p.rotation, p.neck, p.jaw, p.eyes.slice(0, 3), p.eyes.slice(3)].map((a) => rod([...a]));
  const m4 = (Rm: number[], t: number[]) => [Rm[0]!, Rm[1]!, Rm[2]!, t[0]!, Rm[3]!, Rm[4]!, Rm[5]!, t[1]!, Rm[6]!, Rm[7]!, Rm[8]!, t[2]!, 0, 0, 0, 1];
  const mul = (a: number[], b: number[]) =>
    [0, 1, 2, 3].flatMap((r) =>
      [0, 1, 2, 3].map((c) => a[4 * r]! * b[c]! + a[4 * r + 1]! * b[4 + c]! + a[4 * r + 2]! * b[8 + c]! + a[4 * r + 3]! * b[12 + c]!),
    );
  const G: number[][] = [];
  for (let j = 0; j < 5; j++) {
    const par = f.parents[j]!;
    const local = m4(R[j]!, par < 0 ? J[j]! : J[j]!.map((x, c) => x - J[par]![c]!));
    G.push(par < 0 ? local : mul(G[par]!, local));
  }
  // A_j = G_j · translate(−J_j)
  const A = G.map((g, j) =>
    mul(
      g,
      m4(
        [1, 0, 0, 0, 1, 0, 0, 0, 1],
        J[j]!.map((x) => -x),
      ),
    ),
  );
  const out = new Float64Array(V * 3);
  for (let v = 0; v < V; v++) {
    const q = [0, 1, 2].map((c) => {
      let s = vs[3 * v + c]!;
      for (let j = 1; j < 5; j++) for (let i = 0; i < 9; i++) s += (R[j]![i]! - (i % 4 === 0 ? 1 : 0)) * f.posedirs[(3 * v + c) * 36 + (j - 1) * 9 + i]!;
      return s;
    });
    for (let r = 0; r < 3; r++) {
      let s = 0;
      for (let j = 0; j < 5; j++)
        s += f.weights[v * 5 + j]! * (A[j]![4 * r]! * q[0]! + A[j]![4 * r + 1]! * q[1]! + A[j]![4 * r + 2]! * q[2]! + A[j]![4 * r + 3]!);
      out[3 * v + r] = s + p.translation[r]!;
    }
  }
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>, n = a.length) => {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('FLAME loader', () => {
  it('reads a Python 2 and a Python 3 pickle of the same model identically, with FLAME layouts converted', () => {
    for (const style of ['py2', 'py3'] as const) {
      const m = load(tinyFlamePickle(fx, { style }));
      expect(m.baseVertexCount).toBe(fx.V);
      expect(m.vertexCount).toBe(fx.V + 120);
      expect(m.triangleCount).toBe(fx.T + 168);
      expect(Array.from(m.faces.subarray(0, fx.T * 3))).toEqual(Array.from(fx.faces));
      expect(maxDiff(m.template, fx.template, fx.V * 3)).toBe(0);
      expect(Array.from(m.parents)).toEqual([-1, 0, 1, 1, 1]);
      // Component-major blendshapes: expression 3 is the file's component 303.
      const n = m.vertexCount * 3;
      expect(m.shapedirs[(300 + 3) * n + 3 * 17 + 2]).toBe(fx.shapedirs[(3 * 17 + 2) * 400 + 303]);
      expect(m.posedirs[35 * n + 3 * 9 + 1]).toBe(fx.posedirs[(3 * 9 + 1) * 36 + 35]);
      expect(
        maxDiff(
          m.jointRegressor.filter((_, i) => i % m.vertexCount < fx.V),
          fx.jointRegressor,
        ),
      ).toBe(0);
    }
  });

  it('poses FLAME vertices as an independent float64 reference does', () => {
    const m = load();
    const rng = new Rng(3);
    const offset = new Float64Array(m.vertexCount * 3).map(() => 1e-3 * rng.normal());
    for (let trial = 0; trial < 3; trial++) {
      const p = randomParams(m, rng);
      const got = poseFlame64(m, p, offset);
      const want = reference(fx, p, offset);
      expect(maxDiff(got, want, fx.V * 3)).toBeLessThan(1e-12);
      // And the pose matters: far from the template.
      expect(maxDiff(got, m.template, fx.V * 3)).toBeGreaterThan(1e-2);
    }
  });

  it("builds GaussianAvatars' teeth triangles in its order, upper teeth riding the neck and lower the jaw", () => {
    const t = teethTriangles();
    expect(t.length).toBe(TEETH_TRIANGLE_COUNT * 3);
    // Triangles of the extended list (indices into the 120 teeth vertices), one per strip end and half.
    const expected: Record<number, number[]> = {
      0: [0, 31, 30],
      13: [6, 7, 37],
      14: [7, 8, 37],
      27: [14, 44, 43],
      28: [60, 75, 76],
      42: [67, 82, 68],
      56: [75, 30, 76],
      70: [82, 37, 38],
      84: [45, 46, 15],
      98: [52, 23, 22],
      112: [90, 106, 105],
      126: [97, 98, 112],
      140: [105, 106, 45],
      154: [112, 53, 52],
      167: [118, 119, 59],
    };
    for (const [i, tri] of Object.entries(expected)) expect(Array.from(t.subarray(3 * +i, 3 * +i + 3)), `triangle ${i}`).toEqual(tri);
    // Every teeth vertex is used; no triangle repeats a vertex.
    expect(new Set(t).size).toBe(120);
    for (let i = 0; i < TEETH_TRIANGLE_COUNT; i++) expect(new Set(t.subarray(3 * i, 3 * i + 3)).size).toBe(3);

    const m = load();
    const rng = new Rng(5);
    const p = randomParams(m, rng);
    const fr = flameFrame(m, p);
    const posed = poseFlame64(m, p);
    const n = m.vertexCount * 3;
    for (const [ids, joint] of [
      [m.teeth.upper, 1],
      [m.teeth.lower, 2],
    ] as const) {
      for (const v of ids) {
        const shaped = [0, 1, 2].map((c) => {
          let s = m.template[3 * v + c]!;
          for (let k = 0; k < m.shapeCount; k++) s += p.shape[k]! * m.shapedirs[k * n + 3 * v + c]!;
          return s;
        });
        const A = fr.transforms.subarray(12 * joint, 12 * joint + 12);
        for (let r = 0; r < 3; r++) {
          const want = A[4 * r]! * shaped[0]! + A[4 * r + 1]! * shaped[1]! + A[4 * r + 2]! * shaped[2]! + A[4 * r + 3]! + p.translation[r]!;
          expect(Math.abs(posed[3 * v + r]! - want)).toBeLessThan(1e-12);
        }
      }
    }
    // The teeth sit behind the lips: each teeth vertex is behind its own column's lip midpoint.
    for (const v of [...m.teeth.upper, ...m.teeth.lower]) {
      const i = (v - fx.V) % 15;
      const lipZ = (fx.template[3 * fx.lipRings.upper[i]! + 2]! + fx.template[3 * fx.lipRings.lower[i]! + 2]!) / 2;
      expect(m.template[3 * v + 2]!).toBeLessThan(lipZ);
    }
  });

  it('poses on the GPU within float32 rounding of the float64 reference (batch, static offset)', async () => {
    const ctx = await gpu();
    const m = load();
    const rng = new Rng(11);
    const offset = new Float32Array(m.vertexCount * 3).map(() => 1e-3 * rng.normal());
    const poser = new GpuFlamePoser(ctx, m, offset);
    const frames = [neutralFlameParams(m), randomParams(m, rng), randomParams(m, rng)];
    const got = await poser.pose(frames);
    poser.destroy();
    const n = m.vertexCount * 3;
    frames.forEach((p, f) => {
      const want = poseFlame64(m, p, offset);
      expect(maxDiff(got.subarray(f * n, (f + 1) * n), want)).toBeLessThan(5e-6);
    });
  });

  it('names the file and the key for malformed models', () => {
    expect(() => load(tinyFlamePickle(fx, { drop: 'posedirs' }))).toThrow(`${FILE}: posedirs: missing`);
    expect(() => load(tinyFlamePickle(fx, { replace: ['weights', ndarray('<f8', [fx.V, 4], new Float64Array(fx.V * 4))] }))).toThrow(
      `${FILE}: weights: expected shape (${fx.V}, 5), got (${fx.V}, 4)`,
    );
    expect(() => load(tinyFlamePickle(fx, { replace: ['shapedirs', { str: 'oops' }] }))).toThrow(`${FILE}: shapedirs: expected a numpy array`);
    const truncated = tinyFlamePickle(fx).subarray(0, 5000);
    expect(() => load(truncated)).toThrow(new RegExp(`^${FILE}: `));
    expect(() => load(new TextEncoder().encode('not a pickle'))).toThrow(`${FILE}: not a binary Python pickle`);
    const badFace = Uint32Array.from(fx.faces);
    badFace[10] = fx.V + 3;
    expect(() => load(tinyFlamePickle(fx, { replace: ['f', ndarray('<u4', [fx.T, 3], badFace)] }))).toThrow(
      `${FILE}: f: entry 10 = ${fx.V + 3} is not a vertex index`,
    );
    expect(() => parseFlame(tinyFlamePickle(fx), FILE)).toThrow(
      `${FILE}: v_template: ${fx.V} vertices, not FLAME's 5023 (GaussianAvatars' teeth hang on FLAME's lip vertices`,
    );
  });
});
