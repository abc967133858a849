/**
 * Real-time rendering of an avatar: head parameters → posed mesh (blendshapes + jaw/neck, WGSL) → bound
 * world Gaussians (bind.wgsl.ts) → the differentiable rasterizer's forward pass, all in one command buffer
 * with no CPU round trip and no per-frame allocation. The same rasterizer code path as training; used by
 * `gae bench avatar`, the viewer and the renders of `gae render`.
 */
import type { GpuContext } from '../gpu/device.js';
import { createStorage, download, upload, uniform } from '../gpu/buffers.js';
import { bindGroup, getPipeline, grid } from '../gpu/pipelines.js';
import type { GpuProfiler } from '../gpu/timing.js';
import { GpuHeadPoser } from '../head/gpu-pose.js';
import type { HeadModel } from '../head/model.js';
import type { HeadParams } from '../head/pose.js';
import type { Head, HeadPoser } from '../head/head.js';
import { GaussianRasterizer, type ForwardState, type GaussianBuffers, type PrepareOptions, type RasterizerOptions } from '../raster/gpu/rasterizer.js';
import type { Camera, RasterSettings, ShDegree } from '../raster/types.js';
import type { BoundGaussians } from './gaussians.js';
import { BIND_WG, bindWgsl, packLocal } from './bind.wgsl.js';

/**
 * `head` is the ICT-FaceKit model (its parameters are HeadParams) or any head of the head interface
 * (lib/head/head.ts, e.g. FLAME with FlameParams).
 */
export class AvatarRenderer<P = HeadParams> {
  private readonly poser: Pick<HeadPoser<P>, 'encodeFrame' | 'destroy'>;
  private readonly rasterizer: GaussianRasterizer;
  private readonly verts: GPUBuffer;
  private readonly faces: GPUBuffer;
  private readonly dims: GPUBuffer;
  private local!: { binding: GPUBuffer; params: GPUBuffer };
  private world!: GaussianBuffers;
  private last: ForwardState | null = null;
  /** The bind pass's pipeline and bind group: fixed per set of Gaussians, so built once, not per frame. */
  private bindPass: { pipeline: GPUComputePipeline; group: GPUBindGroup } | null = null;

  constructor(
    private readonly ctx: GpuContext,
    readonly head: HeadModel | Head<P>,
    gaussians: BoundGaussians,
    rasterizerOptions: RasterizerOptions = {},
  ) {
    const { device } = ctx;
    this.poser = 'gpuPoser' in head ? head.gpuPoser(ctx) : (new GpuHeadPoser(ctx, head) as unknown as HeadPoser<P>);
    this.rasterizer = new GaussianRasterizer(ctx, rasterizerOptions);
    this.verts = createStorage(device, head.vertexCount * 12, 'avatar-posed-verts');
    this.faces = upload(device, head.faces, undefined, 'avatar-faces');
    this.dims = uniform(device, new Uint32Array(4), 'avatar-bind-dims');
    this.setGaussians(gaussians);
  }

  get count(): number {
    return this.world.count;
  }

  /** The rasterizer's counters (frames rendered incomplete for lack of key capacity, memory). */
  get stats(): GaussianRasterizer['stats'] {
    return this.rasterizer.stats;
  }

  /** Waits until the key counts of all submitted frames are known (and capacity has grown if needed). */
  async settle(): Promise<void> {
    await this.rasterizer.settle();
  }

  /** Swaps in another set of Gaussians (e.g. original ↔ edited avatar in the viewer). */
  setGaussians(g: BoundGaussians): void {
    const { device } = this.ctx;
    if (this.local) for (const b of Object.values(this.local)) b.destroy();
    if (this.world) for (const b of [this.world.means, this.world.logScales, this.world.quats, this.world.opacityLogits, this.world.sh]) b.destroy();
    this.local = {
      binding: upload(device, Uint32Array.from(g.binding), undefined, 'avatar-binding'),
      params: upload(device, packLocal(g.means, g.logScales, g.quats), undefined, 'avatar-local-params'),
    };
    this.world = {
      count: g.count,
      shDegree: g.shDegree as ShDegree,
      means: createStorage(device, g.count * 12, 'avatar-world-means'),
      logScales: createStorage(device, g.count * 12, 'avatar-world-logscales'),
      quats: createStorage(device, g.count * 16, 'avatar-world-quats'),
      opacityLogits: upload(device, g.opacityLogits, undefined, 'avatar-opacity'),
      sh: upload(device, g.sh, undefined, 'avatar-sh'),
    };
    device.queue.writeBuffer(this.dims, 0, new Uint32Array([g.count, 0, 0, 0]));
    this.bindPass = null;
  }

  /** The rasterizer's projection layout (fused, or split where the device allows fewer storage buffers). */
  get projectLayout(): GaussianRasterizer['projectLayout'] {
    return this.rasterizer.projectLayout;
  }

  /** Compiles the kernels for these settings (call once before timing); `forwardOnly` for viewers. */
  async prepare(settings: RasterSettings, opts: PrepareOptions = {}): Promise<void> {
    await this.rasterizer.prepare(settings, opts);
    await getPipeline(this.ctx.device, { code: bindWgsl, entryPoint: 'main', label: 'avatar-bind' });
  }

  private async bindPassFor(): Promise<{ pipeline: GPUComputePipeline; group: GPUBindGroup }> {
    if (this.bindPass) return this.bindPass;
    const { device } = this.ctx;
    const pipeline = await getPipeline(device, { code: bindWgsl, entryPoint: 'main', label: 'avatar-bind' });
    this.bindPass = {
      pipeline,
      group: bindGroup(device, pipeline, {
        0: this.dims,
        1: this.verts,
        2: this.faces,
        3: this.local.binding,
        4: this.local.params,
        7: this.world.means,
        8: this.world.logScales,
        9: this.world.quats,
      }),
    };
    return this.bindPass;
  }

  /** Encodes pose + bind into `enc`; the world Gaussians are then ready for the rasterizer. */
  async encodePose(enc: GPUCommandEncoder, p: P, profiler?: GpuProfiler): Promise<void> {
    await this.poser.encodeFrame(enc, p, this.verts, profiler);
    const { pipeline, group } = await this.bindPassFor();
    const pass = enc.beginComputePass({ label: 'avatar-bind', timestampWrites: profiler?.writes('bind') });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    const [x, y] = grid(Math.ceil(this.world.count / BIND_WG));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  /**
   * Renders one frame: pose, bind and rasterize, submitted together. Returns the rasterizer's forward
   * state (its `image` buffer holds [H,W,5]: RGB, alpha, depth); valid until the next call.
   */
  async render(p: P, cam: Camera, settings: RasterSettings, profiler?: GpuProfiler): Promise<ForwardState> {
    const { device } = this.ctx;
    const enc = device.createCommandEncoder();
    await this.encodePose(enc, p, profiler);
    device.queue.submit([enc.finish()]);
    // The last frame's state is reused when its buffers are large enough (queue order keeps this safe):
    // a viewer renders every frame, and fresh buffers would also mean fresh bind groups each time.
    this.last = this.rasterizer.forward(this.world, cam, settings, { profiler, reuse: this.last ?? undefined });
    return this.last;
  }

  /** The world-space Gaussians of the last posed frame, read back (tests, .ply export of a pose). */
  async readWorld(): Promise<{ means: Float32Array; logScales: Float32Array; quats: Float32Array }> {
    const { device } = this.ctx;
    const n = this.world.count;
    return {
      means: await download(device, this.world.means, Float32Array, n * 3),
      logScales: await download(device, this.world.logScales, Float32Array, n * 3),
      quats: await download(device, this.world.quats, Float32Array, n * 4),
    };
  }

  /** The last rendered image: RGB [H,W,3] and alpha [H,W]. */
  async readImage(cam: Camera): Promise<{ rgb: Float32Array; alpha: Float32Array }> {
    if (!this.last) throw new Error('AvatarRenderer.readImage: nothing rendered yet');
    const px = cam.width * cam.height;
    const packed = await download(this.ctx.device, this.last.image, Float32Array, px * 5);
    const rgb = new Float32Array(px * 3);
    const alpha = new Float32Array(px);
    for (let i = 0; i < px; i++) {
      rgb[3 * i] = packed[5 * i]!;
      rgb[3 * i + 1] = packed[5 * i + 1]!;
      rgb[3 * i + 2] = packed[5 * i + 2]!;
      alpha[i] = packed[5 * i + 3]!;
    }
    return { rgb, alpha };
  }

  destroy(): void {
    if (this.last) this.rasterizer.releaseState(this.last);
    this.rasterizer.destroy();
    this.poser.destroy();
    for (const b of [this.verts, this.faces, this.dims, ...Object.values(this.local)]) b.destroy();
    for (const b of [this.world.means, this.world.logScales, this.world.quats, this.world.opacityLogits, this.world.sh]) b.destroy();
  }
}
