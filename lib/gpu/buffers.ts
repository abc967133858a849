/** Moving typed arrays between the CPU and GPU storage buffers. */
import { BufferUsage, MapMode } from './flags.js';

export type TypedArray = Float32Array | Uint32Array | Int32Array | Uint8Array | Uint16Array;
type TypedArrayCtor<T extends TypedArray> = { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number };

export const STORAGE: number = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** WebGPU requires buffer sizes and copy sizes in multiples of 4 bytes; zero-sized buffers are legal but unbindable. */
export function alignedSize(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

/** A storage buffer holding `data`, usable by kernels and copyable both ways. */
export function upload(device: GPUDevice, data: TypedArray, usage: number = STORAGE, label?: string): GPUBuffer {
  const size = alignedSize(data.byteLength);
  const buffer = device.createBuffer({ size, usage, mappedAtCreation: true, label });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** An uninitialised (zeroed, per the WebGPU spec) storage buffer of `bytes` bytes. */
export function createStorage(device: GPUDevice, bytes: number, label?: string, usage: number = STORAGE): GPUBuffer {
  return device.createBuffer({ size: alignedSize(bytes), usage, label });
}

/** A uniform buffer with `data` in it (std140-like packing is the caller's business). */
export function uniform(device: GPUDevice, data: ArrayBuffer | TypedArray, label?: string): GPUBuffer {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
  const buffer = device.createBuffer({ size, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, mappedAtCreation: true, label });
  new Uint8Array(buffer.getMappedRange()).set(bytes);
  buffer.unmap();
  return buffer;
}

/**
 * Reads `count` elements of type `ctor` from `src` starting at `byteOffset`.
 * Goes through a staging buffer: storage buffers cannot be mapped for reading directly.
 */
export async function download<T extends TypedArray>(device: GPUDevice, src: GPUBuffer, ctor: TypedArrayCtor<T>, count?: number, byteOffset = 0): Promise<T> {
  const n = count ?? Math.floor((src.size - byteOffset) / ctor.BYTES_PER_ELEMENT);
  const bytes = n * ctor.BYTES_PER_ELEMENT;
  const size = alignedSize(bytes);
  if (byteOffset + size > src.size) {
    throw new RangeError(`download: ${size} bytes at offset ${byteOffset} exceed buffer '${src.label}' of ${src.size} bytes`);
  }
  const staging = device.createBuffer({ size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, byteOffset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MapMode.READ);
  const copy = staging.getMappedRange(0, size).slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return new ctor(copy);
}

/** Overwrites the start of `dst` with `data` (queue order: visible to work submitted afterwards). */
export function write(device: GPUDevice, dst: GPUBuffer, data: TypedArray, byteOffset = 0): void {
  const padded = data.byteLength % 4 === 0 ? data : padTo4(data);
  device.queue.writeBuffer(dst, byteOffset, padded.buffer, padded.byteOffset, padded.byteLength);
}

function padTo4(data: TypedArray): Uint8Array {
  const out = new Uint8Array(alignedSize(data.byteLength));
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return out;
}
