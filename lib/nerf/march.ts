/**
 * The ray marcher's sampling on the GPU (kernel: march.wgsl.ts; reference: march-reference.ts): rays of a
 * list of pixels → the kept samples as tfjs tensors, ready for the field and the compositing (render.ts).
 * One readback per call (the kept count sizes the tensors).
 */
import { acquireTensorBuffer, adoptBuffer, tf } from '../gpu/tfjs.js';
import type { GpuContext } from '../gpu/device.js';
import { download, upload } from '../gpu/buffers.js';
import { BufferUsage } from '../gpu/flags.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { cameraCentre } from '../raster/camera.js';
import type { Camera } from '../raster/types.js';
import type { DeformFrame } from './deform.js';
import { pixelToWorld, type CanonicalBox } from './march-reference.js';
import { MARCH_WG, marchWgsl } from './march.wgsl.js';

export interface MarchInput {
  camera: Camera;
  frame: DeformFrame;
  box: CanonicalBox;
  samples: number;
  jitterSeed: number | null;
  occupancy: GPUBuffer; // [G³] f32, 1 = occupied
  occupancyResolution: number;
}

export interface MarchResult {
  rays: number; // R
  samples: number; // S
  count: number; // M kept samples
  points: tf.Tensor2D; // [M,3] canonical points in [0,1]³
  denseIndex: tf.Tensor1D; // [M] int32, r·S + s
  delta: tf.Tensor1D; // [R] step length, metres (0: the ray misses the mesh's box)
}

export function disposeMarch(m: MarchResult): void {
  tf.dispose([m.points, m.denseIndex, m.delta]);
}

export function marchUniform(inp: MarchInput, rays: number): ArrayBuffer {
  const buf = new ArrayBuffer(9 * 16);
  const f = new Float32Array(buf),
    u = new Uint32Array(buf);
  const M = pixelToWorld(inp.camera);
  for (let i = 0; i < 3; i++) f.set([M[3 * i]!, M[3 * i + 1]!, M[3 * i + 2]!, 0], 4 * i);
  f.set([...cameraCentre(inp.camera), 0], 12);
  const b = inp.frame.geometry.bounds;
  f.set([...b.lo, 0], 16);
  f.set([...b.hi, 0], 20);
  f.set([...inp.box.lo, 1 / inp.box.size], 24);
  u.set([inp.samples, rays, inp.camera.width, (inp.jitterSeed ?? 0) >>> 0], 28);
  u.set([inp.occupancyResolution, inp.jitterSeed === null ? 0 : 1, 0, 0], 32);
  return buf;
}

export class RayMarcher {
  private readonly pipeline: GPUComputePipeline;
  private readonly counter: GPUBuffer;

  constructor(readonly ctx: GpuContext) {
    this.pipeline = getPipelineSync(ctx.device, { code: marchWgsl, entryPoint: 'marchSamples', label: 'nerf-march' });
    this.counter = ctx.device.createBuffer({ size: 4, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST, label: 'nerf-march-count' });
  }

  /** Samples of the rays through `pixels` (ids y·W + x). */
  async march(inp: MarchInput, pixels: Uint32Array | GPUBuffer, rays: number): Promise<MarchResult> {
    const d = this.ctx.device;
    const S = inp.samples;
    const cap = rays * S;
    const pixBuf = pixels instanceof Uint32Array ? upload(d, pixels) : pixels;
    const uni = d.createBuffer({ size: 9 * 16, usage: BufferUsage.UNIFORM, mappedAtCreation: true, label: 'nerf-march' });
    new Uint8Array(uni.getMappedRange()).set(new Uint8Array(marchUniform(inp, rays)));
    uni.unmap();
    const pts = acquireTensorBuffer([cap, 3]);
    const idx = acquireTensorBuffer([cap]);
    const delta = acquireTensorBuffer([rays]);
    const enc = d.createCommandEncoder({ label: 'nerf-march' });
    enc.clearBuffer(this.counter);
    const f = inp.frame;
    const pass = enc.beginComputePass({ label: 'nerf-march' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(
      0,
      bindGroup(d, this.pipeline, {
        0: uni,
        1: f.uniform,
        2: f.cellStart,
        3: f.cellTris,
        4: f.tris,
        5: f.affines,
        6: pixBuf,
        7: inp.occupancy,
        8: pts,
        9: idx,
        10: delta,
        11: this.counter,
      }),
    );
    const [gx, gy] = grid(Math.ceil(cap / MARCH_WG));
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    d.queue.submit([enc.finish()]);
    const count = (await download(d, this.counter, Uint32Array, 1))[0]!;
    uni.destroy();
    if (pixels instanceof Uint32Array) pixBuf.destroy();
    const allPts = adoptBuffer<tf.Rank.R2>(pts, [cap, 3]);
    const allIdx = adoptBuffer<tf.Rank.R1>(idx, [cap], 'int32');
    const out: MarchResult = {
      rays,
      samples: S,
      count,
      points: tf.slice(allPts, [0, 0], [count, 3]) as tf.Tensor2D,
      denseIndex: tf.slice(allIdx, [0], [count]) as tf.Tensor1D,
      delta: adoptBuffer<tf.Rank.R1>(delta, [rays]),
    };
    tf.dispose([allPts, allIdx]);
    return out;
  }

  destroy(): void {
    this.counter.destroy();
  }
}
