/**
 * A dataset's captured frames held on the GPU as 8-bit data, read once from disk and never uploaded again:
 * colour as one u32 per pixel (R, G, B), mask and region labels as one u32 per pixel (mask, label). The 8-bit
 * form is exact: the PNGs are 8-bit, and the kernels of kernels/frames.wgsl.ts unpack them to the same float32
 * values the CPU decoder gives. At 802×550 a frame's colour is 1.8 MB (float32 would be 5.3 MB).
 *
 * Colour and mask/labels load independently on first use: training needs only the colour.
 */
import { acquireTensorBuffer, adoptBuffer, tf } from '../gpu/tfjs.js';
import { getGpuSync } from '../gpu/device.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { BufferUsage } from '../gpu/flags.js';
import { readPng } from '../util/image.js';
import type { DatasetFrame } from './dataset.js';
import { FRAMES_WG, unpackLabelsWgsl, unpackMaskWgsl, unpackRgbWgsl } from './kernels/frames.wgsl.js';

interface Packed {
  buffer: GPUBuffer; // [H·W] u32
  width: number;
  height: number;
}

/** The key of a frame within its dataset (split and index). */
export function frameKey(frame: Pick<DatasetFrame, 'split' | 'index'>): string {
  return `${frame.split}:${frame.index}`;
}

/** 8-bit values of a decoded PNG channel, exactly (the decoder stores b / 255 in float32). */
function toByte(v: number): number {
  return Math.round(v * 255);
}

async function readChecked(file: string, frame: DatasetFrame) {
  const d = await readPng(file);
  if (d.rgb.width !== frame.camera.width || d.rgb.height !== frame.camera.height) {
    throw new Error(`${file}: size ${d.rgb.width}×${d.rgb.height} does not match the camera's ${frame.camera.width}×${frame.camera.height}`);
  }
  return d;
}

export class ResidentFrames {
  private readonly rgb = new Map<string, Packed>();
  private readonly maskLabels = new Map<string, Packed>();
  private readonly pending = new Map<string, Promise<Packed>>();
  private lut: GPUBuffer | null = null;
  private uniform: GPUBuffer | null = null;
  /** Bytes held on the GPU. */
  bytes = 0;

  /** Colour of `frame` as [H,W,3] float32 in [0, 1] (a new tensor: the caller disposes it). */
  async target(frame: DatasetFrame): Promise<tf.Tensor3D> {
    const p = await this.load(frame, 'rgb');
    return this.unpack(p, unpackRgbWgsl, [p.height, p.width, 3], 'float32') as tf.Tensor3D;
  }

  /** Foreground coverage of `frame` as [H,W] float32 in [0, 1] (a new tensor). */
  async alpha(frame: DatasetFrame): Promise<tf.Tensor2D> {
    const p = await this.load(frame, 'maskLabels');
    return this.unpack(p, unpackMaskWgsl, [p.height, p.width], 'float32') as tf.Tensor2D;
  }

  /** Region ids of `frame` as [H,W] int32 (a new tensor). */
  async labels(frame: DatasetFrame): Promise<tf.Tensor2D> {
    const p = await this.load(frame, 'maskLabels');
    return this.unpack(p, unpackLabelsWgsl, [p.height, p.width], 'int32') as tf.Tensor2D;
  }

  /** Whether `frame`'s colour is already on the GPU. */
  has(frame: DatasetFrame): boolean {
    return this.rgb.has(frameKey(frame));
  }

  private load(frame: DatasetFrame, what: 'rgb' | 'maskLabels'): Promise<Packed> {
    const key = frameKey(frame);
    const map = what === 'rgb' ? this.rgb : this.maskLabels;
    const hit = map.get(key);
    if (hit) return Promise.resolve(hit);
    const pk = `${what}|${key}`;
    let p = this.pending.get(pk);
    if (!p) {
      p = (async () => {
        const n = frame.camera.width * frame.camera.height;
        const words = new Uint32Array(n);
        if (what === 'rgb') {
          const d = (await readChecked(frame.image, frame)).rgb.data;
          for (let i = 0; i < n; i++) words[i] = toByte(d[3 * i]!) | (toByte(d[3 * i + 1]!) << 8) | (toByte(d[3 * i + 2]!) << 16);
        } else {
          const [m, l] = await Promise.all([readChecked(frame.mask, frame), readChecked(frame.labels, frame)]);
          for (let i = 0; i < n; i++) words[i] = m.raw0[i]! | (l.raw0[i]! << 8);
        }
        const { device } = getGpuSync();
        const buffer = device.createBuffer({ size: Math.max(4, 4 * n), usage: BufferUsage.STORAGE | BufferUsage.COPY_DST, label: `frame-${what}-${key}` });
        device.queue.writeBuffer(buffer, 0, words);
        this.bytes += buffer.size;
        const packed = { buffer, width: frame.camera.width, height: frame.camera.height };
        map.set(key, packed);
        return packed;
      })().finally(() => this.pending.delete(pk));
      this.pending.set(pk, p);
    }
    return p;
  }

  private unpack(p: Packed, code: string, shape: number[], dtype: 'float32' | 'int32'): tf.Tensor {
    const { device } = getGpuSync();
    if (!this.lut) {
      this.lut = device.createBuffer({ size: 256 * 4, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST, label: 'frame-lut' });
      device.queue.writeBuffer(this.lut, 0, Float32Array.from({ length: 256 }, (_, i) => i / 255));
      this.uniform = device.createBuffer({ size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'frame-unpack' });
    }
    const n = p.width * p.height;
    device.queue.writeBuffer(this.uniform!, 0, new Uint32Array([n, 0, 0, 0]));
    const out = acquireTensorBuffer(shape);
    const pipeline = getPipelineSync(device, { code, entryPoint: 'main', label: 'frame-unpack' });
    const enc = device.createCommandEncoder({ label: 'frame-unpack' });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup(device, pipeline, { 0: this.uniform!, 1: this.lut, 2: p.buffer, 3: out }));
    const [gx, gy] = grid(Math.ceil(n / FRAMES_WG));
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    device.queue.submit([enc.finish()]);
    return adoptBuffer(out, shape, dtype);
  }

  dispose(): void {
    for (const p of [...this.rgb.values(), ...this.maskLabels.values()]) p.buffer.destroy();
    this.rgb.clear();
    this.maskLabels.clear();
    this.lut?.destroy();
    this.uniform?.destroy();
    this.lut = this.uniform = null;
    this.bytes = 0;
  }
}
