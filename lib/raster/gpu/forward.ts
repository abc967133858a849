/**
 * The forward pass's commands: projection, depth sort, tile intersection (counts, scan, emit, tile sort,
 * ranges) and rasterization, recorded into one encoder with no CPU readback (tiles.wgsl.ts says how the
 * key count stays on the GPU).
 */
import { grid, type GpuProfiler } from '../../gpu/index.js';
import type { BindGroupCache } from './bindings.js';
import type { RasterScratch } from './capacity.js';
import type { Pipes } from './pipes.js';
import { PassRecorder } from './recorder.js';
import type { ForwardState, GaussianBuffers } from './state.js';
import { META } from './tiles.wgsl.js';

/** What the passes of both directions bind besides the state: the frame uniform, scratch, bind groups. */
export interface PassContext {
  device: GPUDevice;
  frameUniform: GPUBuffer;
  scratch: RasterScratch;
  binds: BindGroupCache;
}

export function dispatchThreads(pass: GPUComputePassEncoder, threads: number, wg: number): void {
  const [x, y] = grid(Math.max(1, Math.ceil(threads / wg)));
  pass.dispatchWorkgroups(x, y);
}

/**
 * Encodes the forward pass of `st` (its frame uniform already written) into a new encoder, followed by the
 * copy of the key count for `RasterScratch.watch`; returns the encoder and the staging buffer.
 */
export function encodeForward(
  pc: PassContext,
  P: Pipes,
  g: GaussianBuffers,
  st: ForwardState,
  prof?: GpuProfiler,
): { enc: GPUCommandEncoder; staging: GPUBuffer } {
  const { device, scratch: S, binds: B } = pc;
  const n = st.n;
  const info = st.info;
  const enc = device.createCommandEncoder({ label: 'raster-forward' });
  const rec = new PassRecorder(enc, prof);
  const U = pc.frameUniform;

  // 1. Projection.
  let pass = rec.pass('project');
  const params: Record<number, GPUBuffer> = { 0: U, 1: g.means, 2: g.logScales, 3: g.quats, 4: g.opacityLogits, 5: g.sh, 6: st.proj, 11: st.rects };
  const sides: Record<number, GPUBuffer> = { 7: st.tilesTouched, 8: S.depthKeys![0], 9: st.depthSorted, 10: st.radii };
  pass.setPipeline(P.project);
  pass.setBindGroup(0, B.get(P.project, P.projectKeys ? params : { ...params, ...sides }));
  dispatchThreads(pass, n, 256);
  if (P.projectKeys) {
    pass = rec.pass('project');
    pass.setPipeline(P.projectKeys);
    pass.setBindGroup(0, B.get(P.projectKeys, { 0: U, 6: st.proj, ...sides, 11: st.rects }));
    dispatchThreads(pass, n, 256);
  }

  // 2. Depth sort (values: Gaussian ids, written by the projection).
  const ds = S.depthSort!.encode(rec, { keys: S.depthKeys!, vals: [st.depthSorted, S.depthValsB!] }, { fixed: n }, 32, { name: 'sort-depth' });
  if (ds.vals !== st.depthSorted) throw new Error('internal: depth sort did not end in its input buffer');

  // 3. Counts in depth order (and cleared tile ranges), their scan, the key count and the indirect
  //    dispatch sizes, emit.
  pass = rec.pass('tiles-count');
  pass.setPipeline(P.gather);
  pass.setBindGroup(0, B.get(P.gather, { 0: U, 1: st.depthSorted, 2: st.tilesTouched, 3: st.offsets, 4: st.ranges }));
  dispatchThreads(pass, Math.max(n + 1, info.numTiles), 256);
  S.offsetsScan!.encodeInPass(rec.pass('tiles-count'), st.offsets, n + 1);
  pass = rec.pass('tiles-count');
  pass.setPipeline(P.setup);
  pass.setBindGroup(0, B.get(P.setup, { 0: U, 1: st.offsets, 2: S.meta }));
  pass.dispatchWorkgroups(1);
  pass = rec.pass('tiles-emit');
  pass.setPipeline(P.emit);
  pass.setBindGroup(0, B.get(P.emit, { 0: U, 1: st.depthSorted, 2: st.offsets, 3: st.rects, 4: S.tileKeys![0], 5: S.emitGid!, 6: S.meta, 7: st.emitBase }));
  pass.dispatchWorkgroupsIndirect(S.meta, META.keyArgs * 4);

  // 4. Stable sort of the keys by tile id (values: emit index, implicit on the first pass).
  const tileBits = Math.max(1, Math.ceil(Math.log2(info.numTiles)));
  const ts = S.tileSort!.encode(
    rec,
    { keys: S.tileKeys!, vals: S.tileVals! },
    { buffer: S.meta, offset: META.keys, indirect: S.meta, indirectOffset: META.sortArgs * 4 },
    tileBits,
    { valsIdentity: true, name: 'sort-tiles' },
  );

  // 5. Per sorted key: Gaussian id; tile ranges.
  pass = rec.pass('tiles-finalize');
  pass.setPipeline(P.finalize);
  pass.setBindGroup(0, B.get(P.finalize, { 1: S.meta, 2: ts.keys, 3: ts.vals, 4: S.emitGid!, 5: st.keyGid, 7: st.ranges }));
  pass.dispatchWorkgroupsIndirect(S.meta, META.keyArgs * 4);

  // 6. Rasterize.
  pass = rec.pass('rasterize');
  pass.setPipeline(P.rasterize);
  const rb: Record<number, GPUBuffer> = { 0: U, 1: st.ranges, 2: st.keyGid, 3: st.proj, 4: st.image, 5: st.finalT, 6: st.lastIdx, 7: st.nContrib };
  if (st.variant.renorm) rb[8] = st.wabeSums!;
  pass.setBindGroup(0, B.get(P.rasterize, rb));
  pass.dispatchWorkgroups(info.gridW, info.gridH);
  rec.end();

  const staging = S.encodeReadback(enc);
  prof?.resolveInto(enc);
  return { enc, staging };
}
