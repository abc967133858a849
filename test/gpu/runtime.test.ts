import { describe, expect, it } from 'vitest';
import { GpuProfiler, download, getPipeline, bindGroup, upload, createStorage, describeAdapter } from '../../lib/gpu/index.js';
import { useTfjsWebGpu, tensorBuffer, acquireTensorBuffer, adoptBuffer, tf } from '../../lib/gpu/tfjs.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();

const saxpy = /* wgsl */ `
override A: f32 = 1.0;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&y)) { y[id.x] = A * x[id.x] + y[id.x]; }
}`;

describe('device', () => {
  it('reports the adapter with its limits raised to the adapter maximum', async () => {
    const ctx = await gpu();
    expect(ctx.report.vendor.length).toBeGreaterThan(0);
    expect(ctx.report.limits.maxStorageBufferBindingSize).toBe(ctx.adapter.limits.maxStorageBufferBindingSize);
    expect(ctx.report.limits.maxBufferSize).toBe(ctx.adapter.limits.maxBufferSize);
    expect(describeAdapter(ctx.report)).toMatch(ctx.report.software ? /software/ : /hardware/);
  });
});

describe('pipeline cache', () => {
  it('returns the same pipeline for the same source and constants, another for other constants', async () => {
    const { device } = await gpu();
    const p1 = await getPipeline(device, { code: saxpy, entryPoint: 'main', constants: { A: 2 } });
    const p2 = await getPipeline(device, { code: saxpy, entryPoint: 'main', constants: { A: 2 } });
    const p3 = await getPipeline(device, { code: saxpy, entryPoint: 'main', constants: { A: 3 } });
    expect(p1).toBe(p2);
    expect(p3).not.toBe(p1);
    // And the constant reaches the kernel.
    const x = upload(device, new Float32Array([1, 2, 3]));
    const y = upload(device, new Float32Array([10, 20, 30]));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(p3);
    pass.setBindGroup(0, bindGroup(device, p3, { 0: x, 1: y }));
    pass.dispatchWorkgroups(1);
    pass.end();
    device.queue.submit([enc.finish()]);
    expect([...(await download(device, y, Float32Array))]).toEqual([13, 26, 39]);
  });

  it('rejects WGSL with a compile error naming the line', async () => {
    const { device } = await gpu();
    const bad = saxpy.replace('A * x[id.x]', 'A * undefinedThing');
    await expect(getPipeline(device, { code: bad, entryPoint: 'main', label: 'bad-saxpy' })).rejects.toThrow(
      /WGSL compile error in bad-saxpy:[\s\S]*line \d+[\s\S]*undefinedThing/,
    );
  });
});

describe('GPU timing', () => {
  it('times named passes with timestamp queries when available, wall clock otherwise', async () => {
    const ctx = await gpu();
    const { device } = ctx;
    const prof = new GpuProfiler(ctx, 4);
    const p = await getPipeline(device, { code: saxpy, entryPoint: 'main' });
    const n = 1 << 20;
    const x = createStorage(device, n * 4);
    const y = createStorage(device, n * 4);
    prof.begin();
    const enc = device.createCommandEncoder();
    for (const name of ['first', 'second']) {
      const pass = enc.beginComputePass({ timestampWrites: prof.writes(name) });
      pass.setPipeline(p);
      pass.setBindGroup(0, bindGroup(device, p, { 0: x, 1: y }));
      pass.dispatchWorkgroups(n / 64);
      pass.end();
    }
    prof.resolveInto(enc);
    device.queue.submit([enc.finish()]);
    const t = await prof.read();
    expect(t.totalMs).toBeGreaterThan(0);
    if (ctx.has.timestampQuery) {
      expect(t.source).toBe('timestamp-query');
      expect([...t.passes.keys()]).toEqual(['first', 'second']);
      for (const ms of t.passes.values()) expect(ms).toBeGreaterThanOrEqual(0);
    } else {
      expect(t.source).toBe('wall-clock');
    }
  });
});

describe('tfjs on the shared device', () => {
  it('runs tfjs on webgpu and shares buffers with our kernels without a CPU copy', async () => {
    const ctx = await useTfjsWebGpu();
    expect(tf.getBackend()).toBe('webgpu');
    const { device } = ctx;
    const a = tf.tensor1d([1, 2, 3, 4]).mul(2); // computed on the GPU: [2, 4, 6, 8]
    const out = acquireTensorBuffer([4]);
    const p = await getPipeline(device, { code: saxpy, entryPoint: 'main', constants: { A: 0.5 } });
    // out starts from tfjs's pool: clear it first.
    device.queue.writeBuffer(out, 0, new Float32Array([1, 1, 1, 1]));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, bindGroup(device, p, { 0: tensorBuffer(a), 1: out }));
    pass.dispatchWorkgroups(1);
    pass.end();
    device.queue.submit([enc.finish()]);
    const t = adoptBuffer(out, [4]);
    const sum = t.add(a); // tfjs consumes our kernel's output: [2,3,4,5] + [2,4,6,8]
    expect([...(await sum.data())]).toEqual([4, 7, 10, 13]);
    tf.dispose([a, t, sum]);
  });
});
