/**
 * The backward pass's commands: per-(tile, Gaussian) gradient partials from the pixels
 * (rasterize-backward.wgsl.ts), their per-Gaussian sums, and the chain to the stored parameters
 * (project-backward.wgsl.ts), recorded into one encoder.
 */
import type { GpuProfiler } from '../../gpu/index.js';
import { dispatchThreads, type PassContext } from './forward.js';
import type { BackwardPipes } from './pipes.js';
import { GRAD_FIELDS } from './rasterize-backward.wgsl.js';
import { PassRecorder } from './recorder.js';
import type { ForwardState, GaussianBuffers, GradBuffers } from './state.js';

/** Encodes the backward pass of `st` (its frame uniform already written) into a new encoder. */
export function encodeBackward(
  pc: PassContext,
  P: BackwardPipes,
  g: GaussianBuffers,
  st: ForwardState,
  dOut: GPUBuffer,
  grads: GradBuffers,
  prof?: GpuProfiler,
): GPUCommandEncoder {
  const { device, scratch: S, binds: B } = pc;
  const n = st.n;
  const partials = S.partials(st.capacity);
  const sums = S.sums(n);
  const enc = device.createCommandEncoder({ label: 'raster-backward' });
  const rec = new PassRecorder(enc, prof);
  const U = pc.frameUniform;

  let pass = rec.pass('rasterize-backward');
  pass.setPipeline(P.backward);
  const bb: Record<number, GPUBuffer> = {
    0: U,
    1: st.ranges,
    2: st.keyGid,
    3: st.emitBase,
    4: st.proj,
    5: st.finalT,
    6: st.lastIdx,
    7: dOut,
    8: partials,
    10: st.rects,
  };
  if (st.variant.renorm) bb[9] = st.wabeSums!;
  pass.setBindGroup(0, B.get(P.backward, bb));
  pass.dispatchWorkgroups(st.info.gridW, st.info.gridH);

  pass = rec.pass('reduce-partials');
  pass.setPipeline(P.reducePartials);
  pass.setBindGroup(0, B.get(P.reducePartials, { 0: U, 1: st.offsets, 2: partials, 3: sums, 4: st.depthSorted }));
  dispatchThreads(pass, n * GRAD_FIELDS, 256);

  pass = rec.pass('project-backward');
  pass.setPipeline(P.projectBackward);
  pass.setBindGroup(
    0,
    B.get(P.projectBackward, {
      0: U,
      1: g.means,
      2: g.logScales,
      3: g.quats,
      5: g.sh,
      6: st.proj,
      9: sums,
      10: grads.means,
      11: grads.logScales,
      12: grads.quats,
      13: grads.opacityLogits,
      14: grads.sh,
      15: grads.means2D,
    }),
  );
  dispatchThreads(pass, n, 128);
  rec.end();
  prof?.resolveInto(enc);
  return enc;
}
