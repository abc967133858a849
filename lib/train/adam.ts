/**
 * Adam with one learning rate per parameter group, written in tfjs ops rather than tf.train.adam so that
 * (1) each group has its own schedule, (2) the moments can follow densification — rows of a group are
 * kept, dropped or appended together with the Gaussians they belong to — and (3) the whole state can be
 * checkpointed and restored bit for bit (resume must reproduce an uninterrupted run).
 */
import * as tf from '@tensorflow/tfjs';
import { acquireTensorBuffer, adoptBuffer, tensorBuffer } from '../gpu/tfjs.js';
import { getGpuSync } from '../gpu/device.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { BufferUsage } from '../gpu/flags.js';
import { ADAM_WG, adamWgsl } from './kernels/adam.wgsl.js';
import { blobOf, type Blobs } from '../util/blobs.js';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  /** 3DGS uses 1e-15: Gaussians' gradients are tiny and a larger eps would freeze them. */
  eps: number;
}

interface Moments {
  m: tf.Tensor;
  v: tf.Tensor;
  step: number;
}

export interface AdamState {
  options: AdamOptions;
  groups: Record<string, { step: number; shape: number[]; m: Float32Array; v: Float32Array }>;
}

/** Adam's step counts and shapes, which a checkpoint keeps in its JSON beside the moments' blobs. */
export type AdamMoments = Record<string, { step: number; shape: number[] }>;

/** Splits a state into its JSON part and its moments as named blobs ('m/<group>', 'v/<group>'). */
export function adamToBlobs(s: AdamState): { options: AdamOptions; moments: AdamMoments; blobs: Blobs } {
  const moments: AdamMoments = {};
  const blobs: Blobs = {};
  for (const [name, grp] of Object.entries(s.groups)) {
    moments[name] = { step: grp.step, shape: grp.shape };
    blobs[`m/${name}`] = { shape: grp.shape, data: grp.m };
    blobs[`v/${name}`] = { shape: grp.shape, data: grp.v };
  }
  return { options: s.options, moments, blobs };
}

/** The inverse of `adamToBlobs`; `file` names the blob file in errors. */
export function adamFromBlobs(options: AdamOptions, moments: AdamMoments, blobs: Blobs, file: string): AdamState {
  const groups: AdamState['groups'] = {};
  for (const [name, m] of Object.entries(moments)) {
    const size = m.shape.reduce((a, b) => a * b, 1);
    groups[name] = { step: m.step, shape: m.shape, m: blobOf(blobs, `m/${name}`, file, size), v: blobOf(blobs, `v/${name}`, file, size) };
  }
  return { options, groups };
}

export class Adam {
  readonly options: AdamOptions;
  private readonly moments = new Map<string, Moments>();

  constructor(options: Partial<AdamOptions> = {}) {
    this.options = { beta1: 0.9, beta2: 0.999, eps: 1e-15, ...options };
  }

  /** Applies one update to each variable in `params` that has a gradient, with `lrs[name]` (0 or missing = frozen). */
  apply(params: Record<string, tf.Variable>, grads: Record<string, tf.Tensor | undefined>, lrs: Record<string, number>): void {
    const { beta1, beta2, eps } = this.options;
    for (const [name, p] of Object.entries(params)) {
      const g = grads[name];
      const lr = lrs[name] ?? 0;
      if (!g || lr === 0) continue;
      let mo = this.moments.get(name);
      if (!mo || !shapesEqual(mo.m.shape, p.shape)) {
        if (mo) tf.dispose([mo.m, mo.v]);
        mo = { m: tf.zerosLike(p), v: tf.zerosLike(p), step: 0 };
        this.moments.set(name, mo);
      }
      mo.step += 1;
      const bc1 = 1 - beta1 ** mo.step;
      const bc2 = 1 - beta2 ** mo.step;
      if (tf.getBackend() === 'webgpu' && p.size > 0) {
        this.fusedStep(name, p, g, mo, lr, bc1, bc2);
        continue;
      }
      const [m, v] = tf.tidy(() => {
        const m = mo!.m.mul(beta1).add(g.mul(1 - beta1));
        const v = mo!.v.mul(beta2).add(g.square().mul(1 - beta2));
        const update = m.div(bc1).div(v.div(bc2).sqrt().add(eps)).mul(lr);
        p.assign(p.sub(update));
        return [m, v];
      });
      tf.dispose([mo.m, mo.v]);
      mo.m = m;
      mo.v = v;
    }
  }

  private readonly uniforms = new Map<string, GPUBuffer>();

  /**
   * The same update as the tfjs path, as one WGSL dispatch (kernels/adam.wgsl.ts) writing new buffers that
   * the variable and the moments then adopt. Submitted before the old buffers can return to tfjs's pool.
   */
  private fusedStep(name: string, p: tf.Variable, g: tf.Tensor, mo: Moments, lr: number, bc1: number, bc2: number): void {
    const { device } = getGpuSync();
    const { beta1, beta2, eps } = this.options;
    let u = this.uniforms.get(name);
    if (!u) {
      u = device.createBuffer({ size: 48, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: `adam-${name}` });
      this.uniforms.set(name, u);
    }
    const n = p.size;
    const params = new ArrayBuffer(48);
    new Uint32Array(params, 0, 4).set([n, 0, 0, 0]);
    new Float32Array(params, 16, 8).set([lr, beta1, beta2, eps, bc1, bc2, 0, 0]);
    device.queue.writeBuffer(u, 0, params);
    const pipeline = getPipelineSync(device, { code: adamWgsl, entryPoint: 'main', label: 'adam' });
    const [pOut, mOut, vOut] = [acquireTensorBuffer(p.shape), acquireTensorBuffer(p.shape), acquireTensorBuffer(p.shape)];
    const enc = device.createCommandEncoder({ label: 'adam' });
    const pass = enc.beginComputePass({ label: `adam-${name}` });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      bindGroup(device, pipeline, {
        0: u,
        1: tensorBuffer(p),
        2: tensorBuffer(g),
        3: tensorBuffer(mo.m),
        4: tensorBuffer(mo.v),
        5: pOut!,
        6: mOut!,
        7: vOut!,
      }),
    );
    const [x, y] = grid(Math.ceil(n / ADAM_WG));
    pass.dispatchWorkgroups(x, y);
    pass.end();
    device.queue.submit([enc.finish()]);
    const newP = adoptBuffer(pOut!, p.shape);
    p.assign(newP);
    newP.dispose();
    tf.dispose([mo.m, mo.v]);
    mo.m = adoptBuffer(mOut!, p.shape);
    mo.v = adoptBuffer(vOut!, p.shape);
  }

  /** Keeps rows `keep` (int32 indices along axis 0) of a group's moments, e.g. after pruning. */
  selectRows(name: string, keep: tf.Tensor1D): void {
    const mo = this.moments.get(name);
    if (!mo) return;
    const [m, v] = [tf.gather(mo.m, keep), tf.gather(mo.v, keep)];
    tf.dispose([mo.m, mo.v]);
    mo.m = m;
    mo.v = v;
  }

  /** Appends `count` zero rows to a group's moments (new Gaussians start with fresh moments, as in 3DGS). */
  appendRows(name: string, count: number): void {
    const mo = this.moments.get(name);
    if (!mo || count === 0) return;
    const [m, v] = tf.tidy(() => {
      const z = tf.zeros([count, ...mo.m.shape.slice(1)]);
      return [tf.concat([mo.m, z], 0), tf.concat([mo.v, z], 0)];
    });
    tf.dispose([mo.m, mo.v]);
    mo.m = m;
    mo.v = v;
  }

  /** Zeroes the moments of a group (e.g. after an opacity reset replaces the parameter's values). */
  resetGroup(name: string): void {
    const mo = this.moments.get(name);
    if (!mo) return;
    tf.dispose([mo.m, mo.v]);
    this.moments.delete(name);
  }

  async state(): Promise<AdamState> {
    const groups: AdamState['groups'] = {};
    for (const [name, mo] of this.moments) {
      groups[name] = {
        step: mo.step,
        shape: mo.m.shape,
        m: (await mo.m.data()) as Float32Array,
        v: (await mo.v.data()) as Float32Array,
      };
    }
    return { options: { ...this.options }, groups };
  }

  static fromState(s: AdamState): Adam {
    const a = new Adam(s.options);
    for (const [name, g] of Object.entries(s.groups)) {
      a.moments.set(name, { m: tf.tensor(g.m, g.shape), v: tf.tensor(g.v, g.shape), step: g.step });
    }
    return a;
  }

  dispose(): void {
    for (const mo of this.moments.values()) tf.dispose([mo.m, mo.v]);
    this.moments.clear();
    for (const u of this.uniforms.values()) u.destroy();
    this.uniforms.clear();
  }
}

function shapesEqual(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
