/**
 * The radiance field in canonical space (INSTA): hash encoding of the canonical point (normalised to the
 * unit cube) → density MLP (one hidden layer) giving the density logit and geometry features → colour MLP
 * (two hidden layers) on those features, optionally concatenated with the frame's expression code:
 *
 *   h = relu(enc · W_d1 + b_d1),  [s, g] = h · W_d2 + b_d2,  σ = exp(min(s, 15))   (trunc_exp: no overflow)
 *   rgb = sigmoid(relu(relu([s, g, e] · W_c1 + b_c1) · W_c2 + b_c2) · W_c3 + b_c3)
 *
 * Parameters are tf.Variables named as in `FIELD_PARAMS`; `fieldReference` is the same map in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random.js';
import { hashOutputWidth } from './hashgrid-config.js';
import { encodeReference } from './hashgrid-reference.js';
import { hashEncode, initHashTables } from './hashgrid.js';
import type { FieldConfig } from './config.js';

export const FIELD_PARAMS = ['tables', 'd1W', 'd1b', 'd2W', 'd2b', 'c1W', 'c1b', 'c2W', 'c2b', 'c3W', 'c3b'] as const;
export type FieldParam = (typeof FIELD_PARAMS)[number];
export type FieldArrays = Record<FieldParam, Float32Array | Float64Array>;

export const MAX_LOGIT = 15;

/** Shapes of the parameters for a config and expression width E (0 = unconditioned). */
export function fieldShapes(cfg: FieldConfig, expressionDims: number): Record<FieldParam, number[]> {
  const H = cfg.hidden,
    G1 = 1 + cfg.geoFeatures,
    W = hashOutputWidth(cfg.hashGrid);
  const E = cfg.expressionConditioning ? expressionDims : 0;
  const L = cfg.hashGrid;
  return {
    tables: [L.levels * 2 ** L.log2TableSize * L.features],
    d1W: [W, H],
    d1b: [H],
    d2W: [H, G1],
    d2b: [G1],
    c1W: [G1 + E, H],
    c1b: [H],
    c2W: [H, H],
    c2b: [H],
    c3W: [H, 3],
    c3b: [3],
  };
}

/** Initial parameters: tables ±initScale, weights Glorot-uniform, biases 0 except the density logit's. */
export function initFieldArrays(cfg: FieldConfig, expressionDims: number, seed: number): Record<FieldParam, Float32Array> {
  const shapes = fieldShapes(cfg, expressionDims);
  const rng = new Rng(seed ^ 0x5eed);
  const out = {} as Record<FieldParam, Float32Array>;
  for (const name of FIELD_PARAMS) {
    const shape = shapes[name];
    const size = shape.reduce((a, b) => a * b, 1);
    if (name === 'tables') out[name] = initHashTables(cfg.hashGrid, seed);
    else if (shape.length === 2) {
      const lim = Math.sqrt(6 / (shape[0]! + shape[1]!));
      out[name] = Float32Array.from({ length: size }, () => (2 * rng.next() - 1) * lim);
    } else out[name] = new Float32Array(size);
  }
  out.d2b[0] = cfg.densityBias;
  return out;
}

let instances = 0;

export class NerfField {
  /** tfjs variable names are global: each field's are `nerf<k>/<param>`. */
  readonly prefix = `nerf${instances++}`;
  readonly params: Record<FieldParam, tf.Variable>;
  readonly expressionDims: number;

  constructor(
    readonly cfg: FieldConfig,
    expressionDims: number,
    init: Record<FieldParam, Float32Array | Float64Array>,
  ) {
    this.expressionDims = cfg.expressionConditioning ? expressionDims : 0;
    const shapes = fieldShapes(cfg, expressionDims);
    this.params = {} as Record<FieldParam, tf.Variable>;
    for (const name of FIELD_PARAMS) {
      const want = shapes[name].reduce((a, b) => a * b, 1);
      const a = init[name];
      if (!a || a.length !== want) throw new Error(`NerfField: parameter ${name} has ${a?.length ?? 0} values, expected ${want} ([${shapes[name]}])`);
      this.params[name] = tf.variable(tf.tensor(Float32Array.from(a), shapes[name]), true, `${this.prefix}/${name}`);
    }
  }

  /** Density logit and features [M, 1+G] of canonical points [M,3] in [0,1]³. */
  private geometry(points: tf.Tensor2D): tf.Tensor2D {
    const p = this.params;
    const enc = hashEncode(points, p.tables, this.cfg.hashGrid);
    return tf.relu(enc.matMul(p.d1W).add(p.d1b)).matMul(p.d2W).add(p.d2b) as tf.Tensor2D;
  }

  /** σ [M] (1/m) of canonical points [M,3] in [0,1]³. */
  density(points: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.exp(tf.minimum(this.geometry(points).slice([0, 0], [-1, 1]), MAX_LOGIT)).reshape([-1]) as tf.Tensor1D);
  }

  /** σ [M] and rgb [M,3] in [0,1]; `expression` [E] is required when the colour is conditioned on it. */
  query(points: tf.Tensor2D, expression?: tf.Tensor1D): { sigma: tf.Tensor1D; rgb: tf.Tensor2D } {
    const p = this.params;
    const geo = this.geometry(points);
    const sigma = tf.exp(tf.minimum(geo.slice([0, 0], [-1, 1]), MAX_LOGIT)).reshape([-1]) as tf.Tensor1D;
    // [g, e] · W_c1 as g · W_c1[:G1] + e · W_c1[G1:]: the expression term is one row shared by all points,
    // so no [M,E] tile is built.
    const G1 = 1 + this.cfg.geoFeatures;
    let pre = geo.matMul(this.expressionDims > 0 ? p.c1W.slice([0, 0], [G1, -1]) : p.c1W).add(p.c1b);
    if (this.expressionDims > 0) {
      if (!expression || expression.size !== this.expressionDims) throw new Error(`NerfField.query: expression code of ${this.expressionDims} values required`);
      pre = pre.add(expression.reshape([1, -1]).matMul(p.c1W.slice([G1, 0], [-1, -1])));
    }
    const h1 = tf.relu(pre);
    const h2 = tf.relu(h1.matMul(p.c2W).add(p.c2b));
    const rgb = tf.sigmoid(h2.matMul(p.c3W).add(p.c3b)) as tf.Tensor2D;
    return { sigma, rgb };
  }

  variables(): tf.Variable[] {
    return FIELD_PARAMS.map((n) => this.params[n]);
  }

  async snapshot(): Promise<Record<FieldParam, Float32Array>> {
    const out = {} as Record<FieldParam, Float32Array>;
    for (const n of FIELD_PARAMS) out[n] = (await this.params[n].data()) as Float32Array;
    return out;
  }

  load(arrays: Record<FieldParam, Float32Array>): void {
    for (const n of FIELD_PARAMS) this.params[n].assign(tf.tensor(arrays[n], this.params[n].shape));
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

/** float64 reference of `NerfField.query`. */
export function fieldReference(
  cfg: FieldConfig,
  params: FieldArrays,
  points: ArrayLike<number>,
  expression?: ArrayLike<number>,
): { sigma: Float64Array; rgb: Float64Array } {
  const n = points.length / 3;
  const enc = encodeReference(cfg.hashGrid, points, params.tables);
  const W = hashOutputWidth(cfg.hashGrid),
    H = cfg.hidden,
    G1 = 1 + cfg.geoFeatures;
  const E = cfg.expressionConditioning && expression ? expression.length : 0;
  const dense = (x: ArrayLike<number>, wIn: number, w: ArrayLike<number>, b: ArrayLike<number>, wOut: number, act: (v: number) => number) => {
    const y = new Float64Array(wOut);
    for (let o = 0; o < wOut; o++) {
      let s = b[o]!;
      for (let i = 0; i < wIn; i++) s += x[i]! * w[i * wOut + o]!;
      y[o] = act(s);
    }
    return y;
  };
  const relu = (v: number) => Math.max(0, v),
    id = (v: number) => v,
    sig = (v: number) => 1 / (1 + Math.exp(-v));
  const sigma = new Float64Array(n),
    rgb = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const h = dense(enc.subarray(i * W, (i + 1) * W), W, params.d1W, params.d1b, H, relu);
    const g = dense(h, H, params.d2W, params.d2b, G1, id);
    sigma[i] = Math.exp(Math.min(g[0]!, MAX_LOGIT));
    const cin = new Float64Array(G1 + E);
    cin.set(g);
    for (let e = 0; e < E; e++) cin[G1 + e] = expression![e]!;
    const h1 = dense(cin, G1 + E, params.c1W, params.c1b, H, relu);
    const h2 = dense(h1, H, params.c2W, params.c2b, H, relu);
    rgb.set(dense(h2, H, params.c3W, params.c3b, 3, sig), 3 * i);
  }
  return { sigma, rgb };
}
