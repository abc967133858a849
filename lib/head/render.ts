/**
 * A textured triangle-mesh renderer on WebGPU (render pipeline, depth test, offscreen targets, read
 * back): the synthetic dataset's "camera". Projection follows the Camera contract exactly (OpenCV
 * intrinsics, pixel centres at i + 0.5; see kernels/mesh.wgsl.ts), so a Gaussian rasterizer and this
 * renderer put the same surface point on the same pixel.
 *
 * Shading (documented model, `Shading`): colour = albedo · ao · (ambient + diffuse · max(0, n·l)), clamped
 * to [0, 1], with one directional key light fixed in the world, two-sided smooth normals, and an ambient
 * occlusion factor per vertex that darkens the mouth interior (teeth, gums, tongue) toward the throat.
 * `FLAT_SHADING` (ambient 1, diffuse 0, no occlusion) renders the albedo itself.
 *
 * Anti-aliasing: `supersample: s` renders at s× the resolution (intrinsics scaled by s) and box-filters
 * rgb and alpha; depth is the mean over covered subsamples; labels are the subsamples' majority.
 */
import type { GpuContext } from '../gpu/device.js';
import { createStorage, download, upload } from '../gpu/buffers.js';
import { BufferUsage, TextureUsage } from '../gpu/flags.js';
import { getPipeline } from '../gpu/pipelines.js';
import type { Camera } from '../raster/types.js';
import { cameraCentre } from '../raster/camera.js';
import type { RgbImage } from '../util/image.js';
import type { HeadModel } from './model.js';
import { cornerAtlasUvs, renderedTriangles } from './atlas.js';
import { vertexNormals } from './normals.js';
import { mouthOcclusion } from './occlusion.js';
import type { HeadTexture } from './texture.js';
import { MESH_UNIFORM_FLOATS, meshWgsl, resolveWgsl } from './kernels/mesh.wgsl.js';
import type { Vec3 } from './math.js';

export interface Shading {
  ambient: number;
  diffuse: number;
  /** Unit direction toward the key light, world frame. */
  lightDir: Vec3;
  /** Apply the per-vertex mouth-interior ambient occlusion. */
  occlusion: boolean;
}

const normalize = (v: Vec3): Vec3 => {
  const l = Math.hypot(...v);
  return [v[0] / l, v[1] / l, v[2] / l];
};

/** Key light from the front, above, and to the subject's left (+x); soft ambient. */
export const DEFAULT_SHADING: Shading = { ambient: 0.42, diffuse: 0.68, lightDir: normalize([0.45, 0.55, 0.7]), occlusion: true };
/** colour = albedo: for tests and for looking at textures. */
export const FLAT_SHADING: Shading = { ambient: 1, diffuse: 0, lightDir: [0, 0, 1], occlusion: false };

export interface RenderMeshOptions {
  supersample?: number; // default 1
  background?: [number, number, number]; // default black, RGB in [0, 1]
  shading?: Shading; // default DEFAULT_SHADING
  /** Trilinear mip-mapped texture sampling (default true); false samples level 0 bilinearly. */
  mipmaps?: boolean;
}

export interface MeshRender {
  rgb: RgbImage; // composited over the background
  alpha: Float32Array; // [H,W] coverage in [0, 1]
  depth: Float32Array; // [H,W] camera z, metres (mean over covered subsamples); 0 where uncovered
  labels: Uint8Array; // [H,W] region ids (lib/head/regions.ts); 0 = background
}

const COLOR_FORMAT: GPUTextureFormat = 'rgba32float';
const DEPTH_FORMAT: GPUTextureFormat = 'depth32float';

interface GpuTextures {
  device: GPUDevice;
  albedo: GPUTexture;
  labels: GPUTexture;
}

const textureCache = new WeakMap<HeadTexture, GpuTextures>();

/** RGBA8 mip chain by 2×2 box filtering (odd sizes clamp). */
function mipChain(w: number, h: number, rgba: Uint8Array): { w: number; h: number; data: Uint8Array }[] {
  const levels = [{ w, h, data: rgba }];
  while (w > 1 || h > 1) {
    const nw = Math.max(1, w >> 1),
      nh = Math.max(1, h >> 1);
    const src = levels[levels.length - 1]!.data;
    const dst = new Uint8Array(nw * nh * 4);
    for (let y = 0; y < nh; y++) {
      for (let x = 0; x < nw; x++) {
        const x0 = Math.min(w - 1, 2 * x),
          x1 = Math.min(w - 1, 2 * x + 1);
        const y0 = Math.min(h - 1, 2 * y),
          y1 = Math.min(h - 1, 2 * y + 1);
        for (let k = 0; k < 4; k++) {
          const s = src[(y0 * w + x0) * 4 + k]! + src[(y0 * w + x1) * 4 + k]! + src[(y1 * w + x0) * 4 + k]! + src[(y1 * w + x1) * 4 + k]!;
          dst[(y * nw + x) * 4 + k] = (s + 2) >> 2;
        }
      }
    }
    levels.push({ w: nw, h: nh, data: dst });
    w = nw;
    h = nh;
  }
  return levels;
}

function gpuTextures(device: GPUDevice, tex: HeadTexture): GpuTextures {
  const hit = textureCache.get(tex);
  if (hit && hit.device === device) return hit;
  const levels = mipChain(tex.width, tex.height, tex.albedo);
  const albedo = device.createTexture({
    size: [tex.width, tex.height],
    format: 'rgba8unorm',
    mipLevelCount: levels.length,
    usage: TextureUsage.TEXTURE_BINDING | TextureUsage.COPY_DST,
    label: 'head-albedo',
  });
  levels.forEach((l, i) => device.queue.writeTexture({ texture: albedo, mipLevel: i }, l.data, { bytesPerRow: l.w * 4 }, [l.w, l.h]));
  const labels = device.createTexture({
    size: [tex.width, tex.height],
    format: 'r8uint',
    usage: TextureUsage.TEXTURE_BINDING | TextureUsage.COPY_DST,
    label: 'head-labels',
  });
  device.queue.writeTexture({ texture: labels }, tex.labels, { bytesPerRow: tex.width }, [tex.width, tex.height]);
  const g = { device, albedo, labels };
  textureCache.set(tex, g);
  return g;
}

/** Frees a texture's GPU copy now (it is otherwise freed with the texture object). */
export function releaseHeadTexture(tex: HeadTexture): void {
  const g = textureCache.get(tex);
  if (!g) return;
  g.albedo.destroy();
  g.labels.destroy();
  textureCache.delete(tex);
}

class MeshRenderer {
  readonly cornerCount: number;
  private readonly corners: GPUBuffer;
  private readonly cornerUv: GPUBuffer;
  private readonly occlusion: GPUBuffer;
  private readonly positions: GPUBuffer;
  private readonly normals: GPUBuffer;
  private readonly uniforms: GPUBuffer;
  private readonly resolveUniforms: GPUBuffer;
  private readonly sampler: GPUSampler;
  private pipeline: Promise<GPURenderPipeline> | null = null;
  private targets: { w: number; h: number; color: GPUTexture; aux: GPUTexture; depth: GPUTexture } | null = null;

  constructor(
    private readonly device: GPUDevice,
    readonly model: HeadModel,
  ) {
    const tris = renderedTriangles(model);
    const uvAll = cornerAtlasUvs(model);
    const corners = new Uint32Array(tris.length * 3);
    const uv = new Float32Array(tris.length * 6);
    tris.forEach((t, i) => {
      for (let c = 0; c < 3; c++) corners[3 * i + c] = model.faces[3 * t + c]!;
      uv.set(uvAll.subarray(6 * t, 6 * t + 6), 6 * i);
    });
    this.cornerCount = corners.length;
    this.corners = upload(device, corners, undefined, 'mesh-corners');
    this.cornerUv = upload(device, uv, undefined, 'mesh-corner-uv');
    this.occlusion = upload(device, mouthOcclusion(model), undefined, 'mesh-occlusion');
    const n3 = model.vertexCount * 3 * 4;
    this.positions = createStorage(device, n3, 'mesh-positions');
    this.normals = createStorage(device, n3, 'mesh-normals');
    this.uniforms = device.createBuffer({ size: MESH_UNIFORM_FLOATS * 4, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    this.resolveUniforms = device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    this.sampler = device.createSampler({
      magFilter: 'linear',
      minFilter: 'linear',
      mipmapFilter: 'linear',
      addressModeU: 'clamp-to-edge',
      addressModeV: 'clamp-to-edge',
    });
  }

  private renderPipeline(): Promise<GPURenderPipeline> {
    this.pipeline ??= (async () => {
      const module = this.device.createShaderModule({ code: meshWgsl, label: 'head-mesh' });
      const info = await module.getCompilationInfo();
      const errs = info.messages.filter((m) => m.type === 'error');
      if (errs.length) throw new Error(`WGSL compile error in head-mesh:\n${errs.map((e) => `  line ${e.lineNum}: ${e.message}`).join('\n')}`);
      return this.device.createRenderPipelineAsync({
        label: 'head-mesh',
        layout: 'auto',
        vertex: { module, entryPoint: 'vs' },
        fragment: { module, entryPoint: 'fs', targets: [{ format: COLOR_FORMAT }, { format: COLOR_FORMAT }] },
        primitive: { topology: 'triangle-list', cullMode: 'none' },
        depthStencil: { format: DEPTH_FORMAT, depthWriteEnabled: true, depthCompare: 'less' },
      });
    })();
    return this.pipeline;
  }

  private ensureTargets(w: number, h: number) {
    if (this.targets && this.targets.w === w && this.targets.h === h) return this.targets;
    if (this.targets) {
      this.targets.color.destroy();
      this.targets.aux.destroy();
      this.targets.depth.destroy();
    }
    const usage = TextureUsage.RENDER_ATTACHMENT | TextureUsage.TEXTURE_BINDING;
    this.targets = {
      w,
      h,
      color: this.device.createTexture({ size: [w, h], format: COLOR_FORMAT, usage, label: 'mesh-color' }),
      aux: this.device.createTexture({ size: [w, h], format: COLOR_FORMAT, usage, label: 'mesh-aux' }),
      depth: this.device.createTexture({ size: [w, h], format: DEPTH_FORMAT, usage: TextureUsage.RENDER_ATTACHMENT, label: 'mesh-depth' }),
    };
    return this.targets;
  }

  async render(posed: Float32Array, normals: Float32Array, camera: Camera, tex: HeadTexture, opts: RenderMeshOptions): Promise<MeshRender> {
    const { device } = this;
    const ss = Math.round(opts.supersample ?? 1);
    if (ss < 1 || ss > 8) throw new Error(`renderMesh: supersample must be 1..8, got ${opts.supersample}`);
    const sh = opts.shading ?? DEFAULT_SHADING;
    const bg = opts.background ?? [0, 0, 0];
    const W = camera.width,
      H = camera.height;
    const Ws = W * ss,
      Hs = H * ss;
    // Every await comes before the shared buffers are written: from here to submit() nothing yields, so
    // concurrent calls cannot interleave their uniforms and vertices.
    const pipeline = await this.renderPipeline();
    const resolve = await getPipeline(device, { code: resolveWgsl, entryPoint: 'main', label: 'head-mesh-resolve' });
    const g = gpuTextures(device, tex);
    const m = camera.worldToCamera;
    const eye = cameraCentre(camera);
    const u = new Float32Array(MESH_UNIFORM_FLOATS);
    u.set([m[0]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7]!, m[8]!, m[9]!, m[10]!, m[11]!], 0);
    u.set([camera.fx * ss, camera.fy * ss, camera.cx * ss, camera.cy * ss], 12);
    u.set([Ws, Hs, camera.near, camera.far], 16);
    u.set([eye[0], eye[1], eye[2], 0], 20);
    u.set([sh.lightDir[0], sh.lightDir[1], sh.lightDir[2], sh.ambient], 24);
    u.set([sh.diffuse, sh.occlusion ? 1 : 0, opts.mipmaps === false ? 1 : 0, 0], 28);
    device.queue.writeBuffer(this.uniforms, 0, u);
    device.queue.writeBuffer(this.positions, 0, posed.buffer, posed.byteOffset, posed.byteLength);
    device.queue.writeBuffer(this.normals, 0, normals.buffer, normals.byteOffset, normals.byteLength);
    const ru = new ArrayBuffer(32);
    new Uint32Array(ru, 0, 4).set([W, H, ss, 0]);
    new Float32Array(ru, 16, 4).set([bg[0], bg[1], bg[2], 1]);
    device.queue.writeBuffer(this.resolveUniforms, 0, ru);

    const t = this.ensureTargets(Ws, Hs);
    const out = createStorage(device, W * H * 6 * 4, 'mesh-out');

    const enc = device.createCommandEncoder();
    const pass = enc.beginRenderPass({
      colorAttachments: [
        { view: t.color.createView(), clearValue: [0, 0, 0, 0], loadOp: 'clear', storeOp: 'store' },
        { view: t.aux.createView(), clearValue: [0, 0, 0, 0], loadOp: 'clear', storeOp: 'store' },
      ],
      depthStencilAttachment: { view: t.depth.createView(), depthClearValue: 1, depthLoadOp: 'clear', depthStoreOp: 'store' },
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.uniforms } },
          { binding: 1, resource: { buffer: this.positions } },
          { binding: 2, resource: { buffer: this.normals } },
          { binding: 3, resource: { buffer: this.corners } },
          { binding: 4, resource: { buffer: this.cornerUv } },
          { binding: 5, resource: { buffer: this.occlusion } },
          { binding: 6, resource: g.albedo.createView() },
          { binding: 7, resource: this.sampler },
          { binding: 8, resource: g.labels.createView() },
        ],
      }),
    );
    pass.draw(this.cornerCount);
    pass.end();
    const cpass = enc.beginComputePass();
    cpass.setPipeline(resolve);
    cpass.setBindGroup(
      0,
      device.createBindGroup({
        layout: resolve.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.resolveUniforms } },
          { binding: 1, resource: t.color.createView() },
          { binding: 2, resource: t.aux.createView() },
          { binding: 3, resource: { buffer: out } },
        ],
      }),
    );
    cpass.dispatchWorkgroups(Math.ceil(W / 8), Math.ceil(H / 8));
    cpass.end();
    device.queue.submit([enc.finish()]);
    const px = await download(device, out, Float32Array, W * H * 6);
    out.destroy();

    const rgb = new Float32Array(W * H * 3);
    const alpha = new Float32Array(W * H);
    const depth = new Float32Array(W * H);
    const labels = new Uint8Array(W * H);
    for (let p = 0; p < W * H; p++) {
      rgb[3 * p] = px[6 * p]!;
      rgb[3 * p + 1] = px[6 * p + 1]!;
      rgb[3 * p + 2] = px[6 * p + 2]!;
      alpha[p] = px[6 * p + 3]!;
      depth[p] = px[6 * p + 4]!;
      labels[p] = px[6 * p + 5]!;
    }
    return { rgb: { width: W, height: H, data: rgb }, alpha, depth, labels };
  }

  destroy(): void {
    for (const b of [this.corners, this.cornerUv, this.occlusion, this.positions, this.normals, this.uniforms, this.resolveUniforms]) b.destroy();
    if (this.targets) {
      this.targets.color.destroy();
      this.targets.aux.destroy();
      this.targets.depth.destroy();
    }
  }
}

const renderers = new WeakMap<GPUDevice, Map<HeadModel, MeshRenderer>>();

function rendererFor(device: GPUDevice, model: HeadModel): MeshRenderer {
  let m = renderers.get(device);
  if (!m) renderers.set(device, (m = new Map()));
  let r = m.get(model);
  if (!r) m.set(model, (r = new MeshRenderer(device, model)));
  return r;
}

/**
 * Renders the posed head mesh `posedVerts` (Float32Array [V,3], world metres; the topology and UVs are
 * the texture's model's) from `camera` with `texture`.
 */
export async function renderMesh(
  ctx: GpuContext,
  posedVerts: Float32Array,
  camera: Camera,
  texture: HeadTexture,
  opts: RenderMeshOptions = {},
): Promise<MeshRender> {
  const model = texture.model;
  if (posedVerts.length !== model.vertexCount * 3) {
    throw new Error(`renderMesh: posedVerts has ${posedVerts.length} values, expected ${model.vertexCount * 3} ([V,3])`);
  }
  const normals = vertexNormals(posedVerts, model.faces);
  return rendererFor(ctx.device, model).render(posedVerts, normals, camera, texture, opts);
}
