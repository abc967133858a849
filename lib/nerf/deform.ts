/**
 * The nearest-triangle deformation on the GPU (math: deform-reference.ts; kernels: deform.wgsl.ts). A
 * `DeformFrame` is one pose's triangles, affines and grid, built on the CPU and uploaded once per frame;
 * the ray marcher binds the same buffers.
 */
import type { GpuContext } from '../gpu/device.js';
import { upload } from '../gpu/buffers.js';
import { BufferUsage } from '../gpu/flags.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { triangleFrames, type TriangleFrames } from '../head/frames.js';
import { triangleAffines, triangleVertices } from './deform-reference.js';
import { buildTriangleGrid, type TriangleGrid } from './tri-grid.js';
import { DEFORM_WG, deformPointsWgsl } from './deform.wgsl.js';

/** One pose on the CPU: what the GPU frame is built from (and what the reference checks against). */
export interface PoseGeometry {
  tris: Float32Array; // [T,9] posed vertices of the listed triangles, metres
  affines: Float32Array; // [T,12] posed → canonical 3×4 per triangle
  grid: TriangleGrid;
  bounds: { lo: [number, number, number]; hi: [number, number, number] }; // posed triangles' box grown by maxDist
}

/**
 * The geometry of a pose: `posedVerts` and `canonicalFrames` are of the whole mesh, `triangles` lists the
 * ones that carry the field (e.g. the rendered triangles, lib/head/atlas.ts).
 */
export function poseGeometry(
  posedVerts: ArrayLike<number>,
  faces: ArrayLike<number>,
  triangles: ArrayLike<number>,
  canonicalFrames: TriangleFrames,
  maxDist: number,
): PoseGeometry {
  const posedFrames = triangleFrames(posedVerts, faces);
  const tris = triangleVertices(posedVerts, faces, triangles);
  const affines = triangleAffines(posedFrames, canonicalFrames, triangles);
  const grid = buildTriangleGrid(tris, maxDist);
  const lo = grid.origin;
  const hi = [0, 1, 2].map((a) => lo[a]! + grid.dims[a]! * grid.cellSize) as [number, number, number];
  return { tris, affines, grid, bounds: { lo, hi } };
}

export interface DeformFrame {
  geometry: PoseGeometry;
  uniform: GPUBuffer; // DeformGrid without the point count (marcher) — see uniformFor
  cellStart: GPUBuffer;
  cellTris: GPUBuffer;
  tris: GPUBuffer;
  affines: GPUBuffer;
  destroy(): void;
}

/** DeformGrid uniform contents (deform.wgsl.ts) with `count` in dims.w. */
export function deformUniform(g: TriangleGrid, count: number): ArrayBuffer {
  const buf = new ArrayBuffer(48);
  new Float32Array(buf, 0, 4).set([...g.origin, g.cellSize]);
  new Uint32Array(buf, 16, 4).set([...g.dims, count]);
  new Float32Array(buf, 32, 4).set([g.maxDist * g.maxDist, g.maxDist, 0, 0]);
  return buf;
}

export function uploadDeformFrame(ctx: GpuContext, geometry: PoseGeometry): DeformFrame {
  const d = ctx.device;
  const uniform = d.createBuffer({ size: 48, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'deform-grid' });
  d.queue.writeBuffer(uniform, 0, deformUniform(geometry.grid, 0));
  const bufs = {
    cellStart: upload(d, geometry.grid.cellStart, undefined, 'deform-cell-start'),
    cellTris: upload(d, geometry.grid.cellTris.length ? geometry.grid.cellTris : new Uint32Array(1), undefined, 'deform-cell-tris'),
    tris: upload(d, geometry.tris.length ? geometry.tris : new Float32Array(9), undefined, 'deform-tris'),
    affines: upload(d, geometry.affines.length ? geometry.affines : new Float32Array(12), undefined, 'deform-affines'),
  };
  return {
    geometry,
    uniform,
    ...bufs,
    destroy() {
      uniform.destroy();
      for (const b of Object.values(bufs)) b.destroy();
    },
  };
}

/** Deforms points with one kernel launch (tests and tools; the marcher inlines the same functions). */
export class MeshDeformer {
  private readonly pipeline: GPUComputePipeline;
  constructor(readonly ctx: GpuContext) {
    this.pipeline = getPipelineSync(ctx.device, { code: deformPointsWgsl, entryPoint: 'deformPoints', label: 'deform-points' });
  }

  /** canonical [N,3] f32 and tri [N] i32 (−1 = empty) from posed points [N,3]. */
  encode(enc: GPUCommandEncoder, frame: DeformFrame, n: number, points: GPUBuffer, canonical: GPUBuffer, tri: GPUBuffer): void {
    const d = this.ctx.device;
    const u = d.createBuffer({ size: 48, usage: BufferUsage.UNIFORM, mappedAtCreation: true, label: 'deform-points' });
    new Uint8Array(u.getMappedRange()).set(new Uint8Array(deformUniform(frame.geometry.grid, n)));
    u.unmap();
    const pass = enc.beginComputePass({ label: 'deform-points' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(
      0,
      bindGroup(d, this.pipeline, { 0: u, 1: frame.cellStart, 2: frame.cellTris, 3: frame.tris, 4: frame.affines, 5: points, 6: canonical, 7: tri }),
    );
    const [gx, gy] = grid(Math.ceil(n / DEFORM_WG));
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    void d.queue.onSubmittedWorkDone().then(() => u.destroy());
  }
}
