/**
 * The multiresolution hash encoding on the GPU (kernels: hashgrid.wgsl.ts, reference: hashgrid-reference.ts),
 * as raw-buffer passes (`HashEncoder`) and as a tfjs op with a registered gradient (`hashEncode`) on the
 * shared device, so tfjs optimisers train the tables directly:
 *
 *   await useTfjsWebGpu();
 *   const tables = tf.variable(tf.tensor1d(initHashTables(cfg, seed)));   // [L·T·F]
 *   const enc = hashEncode(points, tables, cfg);                           // [N, L·F]
 */
import { acquireTensorBuffer, adoptBuffer, tensorBuffer, tf } from '../gpu/tfjs.js';
import { getGpuSync, type GpuContext } from '../gpu/device.js';
import { BufferUsage } from '../gpu/flags.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { Rng } from '../util/random.js';
import { hashLevels, hashOutputWidth, hashParamCount, type HashGridConfig } from './hashgrid-config.js';
import { HASH_WG, MAX_LEVELS, hashBackwardWgsl, hashForwardWgsl } from './hashgrid.wgsl.js';

export interface HashEncoderOptions {
  /** Use the subgroup reduction before the atomics (default: when the device has subgroups). */
  subgroups?: boolean;
  /** Peeling rounds of that reduction per corner (default 4; see hashgrid.wgsl.ts). */
  rounds?: number;
}

export const DEFAULT_PEEL_ROUNDS = 4;

/** Tables initialised uniformly in ±initScale: Float32Array [L,T,F]. */
export function initHashTables(cfg: HashGridConfig, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: hashParamCount(cfg) }, () => (2 * rng.next() - 1) * cfg.initScale);
}

export class HashEncoder {
  readonly subgroups: boolean;
  private readonly uniforms = new Map<number, GPUBuffer>();
  private readonly forward: GPUComputePipeline;
  private readonly backward: GPUComputePipeline;

  constructor(
    readonly ctx: GpuContext,
    readonly cfg: HashGridConfig,
    opts: HashEncoderOptions = {},
  ) {
    if (cfg.levels > MAX_LEVELS) throw new Error(`HashEncoder: ${cfg.levels} levels exceed the kernels' ${MAX_LEVELS}`);
    this.subgroups = opts.subgroups ?? ctx.has.subgroups;
    if (this.subgroups && !ctx.has.subgroups) throw new Error('HashEncoder: subgroups requested but the device has none');
    const d = ctx.device;
    this.forward = getPipelineSync(d, { code: hashForwardWgsl(cfg.features), entryPoint: 'encodeForward', label: 'hash-forward' });
    const code = hashBackwardWgsl(cfg.features, this.subgroups, opts.rounds ?? DEFAULT_PEEL_ROUNDS);
    this.backward = getPipelineSync(d, { code, entryPoint: 'encodeBackward', label: 'hash-backward' });
  }

  /** One uniform per point count, kept (a few sizes recur: batch, chunk, tail). */
  private uniform(n: number): GPUBuffer {
    let u = this.uniforms.get(n);
    if (!u) {
      if (this.uniforms.size > 16) {
        for (const b of this.uniforms.values()) b.destroy();
        this.uniforms.clear();
      }
      const data = new Uint32Array(4 + 4 * MAX_LEVELS);
      data.set([n, this.cfg.levels, this.cfg.features, this.cfg.log2TableSize]);
      hashLevels(this.cfg).forEach((lv, l) => data.set([lv.resolution, lv.dense ? 1 : 0], 4 + 4 * l));
      u = this.ctx.device.createBuffer({ size: data.byteLength, usage: BufferUsage.UNIFORM, mappedAtCreation: true, label: `hash-grid-${n}` });
      new Uint32Array(u.getMappedRange()).set(data);
      u.unmap();
      this.uniforms.set(n, u);
    }
    return u;
  }

  private dispatch(enc: GPUCommandEncoder, p: GPUComputePipeline, n: number, res: Record<number, GPUBuffer>): void {
    if (n === 0) return;
    const pass = enc.beginComputePass({ label: p.label });
    pass.setPipeline(p);
    pass.setBindGroup(0, bindGroup(this.ctx.device, p, { 0: this.uniform(n), ...res }));
    const [gx, gy] = grid(Math.ceil(n / HASH_WG));
    pass.dispatchWorkgroups(gx, gy, this.cfg.levels);
    pass.end();
  }

  /** enc [N, L·F] ← encoding of points [N,3] with tables [L,T,F]. */
  encodeForward(enc: GPUCommandEncoder, n: number, points: GPUBuffer, tables: GPUBuffer, out: GPUBuffer): void {
    this.dispatch(enc, this.forward, n, { 1: points, 2: tables, 3: out });
  }

  /** grad [L,T,F] ← ∂L/∂tables from dOut [N, L·F] (cleared first). */
  encodeBackward(enc: GPUCommandEncoder, n: number, points: GPUBuffer, dOut: GPUBuffer, grad: GPUBuffer): void {
    enc.clearBuffer(grad, 0, hashParamCount(this.cfg) * 4);
    this.dispatch(enc, this.backward, n, { 1: points, 2: dOut, 3: grad });
  }
}

const encoders = new Map<string, HashEncoder>();

/** The shared device's encoder for `cfg` (one per configuration). */
export function sharedHashEncoder(cfg: HashGridConfig, opts: HashEncoderOptions = {}): HashEncoder {
  const key = JSON.stringify([cfg, opts.subgroups ?? null, opts.rounds ?? null]);
  let e = encoders.get(key);
  if (!e) encoders.set(key, (e = new HashEncoder(getGpuSync(), cfg, opts)));
  return e;
}

/**
 * Hash encoding of `points` ([N,3] float32 in [0,1]³, clamped) with `tables` ([L·T·F] float32):
 * [N, L·F]. Differentiable with respect to the tables; the points get a zero gradient (module header of
 * hashgrid-reference.ts). Needs tfjs's webgpu backend on the shared device (useTfjsWebGpu).
 */
export function hashEncode(points: tf.Tensor2D, tables: tf.Tensor, cfg: HashGridConfig, opts: HashEncoderOptions = {}): tf.Tensor2D {
  if (tf.getBackend() !== 'webgpu') throw new Error(`hashEncode: the tfjs backend is '${tf.getBackend()}', not 'webgpu'`);
  if (points.shape[1] !== 3 || points.dtype !== 'float32')
    throw new Error(`hashEncode: points has shape [${points.shape}] ${points.dtype}, expected [N,3] float32`);
  if (tables.size !== hashParamCount(cfg)) throw new Error(`hashEncode: tables has ${tables.size} values, expected L·T·F = ${hashParamCount(cfg)}`);
  const n = points.shape[0];
  const W = hashOutputWidth(cfg);
  const he = sharedHashEncoder(cfg, opts);
  const { device } = he.ctx;
  const f = tf.customGrad((...args: (tf.Tensor | ((s: tf.Tensor[]) => void))[]) => {
    const [p, t] = args as tf.Tensor[];
    const save = args[2] as (s: tf.Tensor[]) => void;
    save([p!]);
    const out = acquireTensorBuffer([n, W]);
    const enc = device.createCommandEncoder({ label: 'hash-encode' });
    he.encodeForward(enc, n, tensorBuffer(p!), tensorBuffer(t!), out);
    device.queue.submit([enc.finish()]);
    const value = adoptBuffer<tf.Rank.R2>(out, [n, W]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const grad = acquireTensorBuffer([hashParamCount(cfg)]);
      const e2 = device.createCommandEncoder({ label: 'hash-encode-backward' });
      he.encodeBackward(e2, n, tensorBuffer(saved[0]!), tensorBuffer(dy), grad);
      device.queue.submit([e2.finish()]);
      return [tf.zerosLike(saved[0]!), adoptBuffer(grad, tables.shape as number[])];
    };
    return { value, gradFunc };
  });
  return f(points, tables) as tf.Tensor2D;
}
