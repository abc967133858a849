/**
 * tfjs's `webgpu` backend on the workbench's own device, and zero-copy access between tfjs tensors and
 * raw GPU buffers so our WGSL kernels (rasterizer, binding) read and write tensors without the CPU.
 *
 * `@tensorflow/tfjs-node-gpu` cannot be installed offline (its install step downloads libtensorflow),
 * so the WebGPU backend is the project's only GPU path for tfjs, in Node as in the browser.
 */
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { getGpu, type GpuContext, type GpuOptions } from './device.js';
import { BufferUsage } from './flags.js';
import { quietTfjs } from './tfjs-quiet.js';

let registered: Promise<GpuContext> | null = null;

/** Opens the shared device, registers tfjs's `webgpu` backend on it and makes it current. */
export function useTfjsWebGpu(opts: GpuOptions = {}): Promise<GpuContext> {
  registered ??= (async () => {
    quietTfjs();
    const ctx = await getGpu(opts);
    // Node 20 has no `navigator`; tfjs's backend checks navigator.gpu before it accepts a device.
    const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    if (!g.navigator!.gpu) (g.navigator as { gpu?: unknown }).gpu = { wrappedByWorkbench: true };
    const backend = new WebGPUBackend(ctx.device, ctx.adapter.info);
    if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => backend, 10);
    await tf.setBackend('webgpu');
    await tf.ready();
    return ctx;
  })().catch((e) => {
    registered = null;
    throw e;
  });
  return registered;
}

interface TensorData {
  resource: GPUBuffer | null;
  external?: boolean;
  shape: number[];
  dtype: tf.DataType;
}

interface BackendInternals {
  tensorMap: { get(id: object): TensorData };
  uploadToGPU(id: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: GPUCommandEncoder | null;
  bufferManager: { acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GPUBuffer };
  device: GPUDevice;
}

function webgpuBackend(): BackendInternals {
  const b = tf.backend() as unknown as BackendInternals;
  if (tf.getBackend() !== 'webgpu' || !b.tensorMap) {
    throw new Error(`tfjs backend is '${tf.getBackend()}', not 'webgpu': call useTfjsWebGpu() first`);
  }
  return b;
}

/**
 * Submits what tfjs has encoded but not yet submitted, so that work we submit next runs after it
 * (queue order is submission order).
 */
export function flushTfjs(): void {
  const b = webgpuBackend();
  if (b.commandEncoder) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

/**
 * The GPU buffer behind `t` (float32/int32, 4 bytes per element, row-major). Valid until `t` is
 * disposed; submit the work that reads it before handing control back to tfjs.
 */
export function tensorBuffer(t: tf.Tensor): GPUBuffer {
  const b = webgpuBackend();
  const id = t.dataId as object;
  b.uploadToGPU(id);
  const res = b.tensorMap.get(id).resource;
  if (!res) throw new Error('tensor has no GPU buffer (was it disposed?)');
  flushTfjs();
  return res;
}

/** A buffer from tfjs's pool, sized for a tensor of `shape`, to be filled by our kernels and then adopted. */
export function acquireTensorBuffer(shape: number[]): GPUBuffer {
  const b = webgpuBackend();
  const bytes = Math.max(4, shape.reduce((a, c) => a * c, 1) * 4);
  return b.bufferManager.acquireBuffer(bytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
}

/**
 * Wraps `buffer` as a tensor without copying. tfjs takes ownership: on dispose the buffer goes back to
 * tfjs's pool, so pass only buffers from `acquireTensorBuffer`.
 */
export function adoptBuffer<R extends tf.Rank = tf.Rank>(buffer: GPUBuffer, shape: number[], dtype: 'float32' | 'int32' = 'float32'): tf.Tensor<R> {
  const t = tf.tensor({ buffer, zeroCopy: true }, shape as number[], dtype) as unknown as tf.Tensor<R>;
  const b = webgpuBackend();
  b.tensorMap.get(t.dataId as object).external = false;
  return t;
}

export { tf };
