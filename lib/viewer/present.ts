/**
 * Puts a rendered frame on a canvas. The canvas context is typed structurally (anything with
 * `getCurrentTexture`), so lib/ needs no DOM typings.
 */
import type { GpuContext } from '../gpu/device.js';
import { BufferUsage } from '../gpu/flags.js';
import { presentWgsl } from './present.wgsl.js';

export interface CanvasTarget {
  getCurrentTexture(): GPUTexture;
}

export class Presenter {
  private readonly pipeline: GPURenderPipeline;
  private readonly dims: GPUBuffer;
  private group: { image: GPUBuffer; bg: GPUBindGroup } | null = null;

  constructor(
    private readonly ctx: GpuContext,
    readonly format: GPUTextureFormat,
  ) {
    const { device } = ctx;
    const module = device.createShaderModule({ code: presentWgsl, label: 'viewer-present' });
    this.pipeline = device.createRenderPipeline({
      label: 'viewer-present',
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: { module, entryPoint: 'fs', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    this.dims = device.createBuffer({ size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'viewer-present-dims' });
  }

  /** Encodes the draw of `image` ([H,W,5] f32 of a width × height frame) into `target`'s current texture. */
  draw(target: CanvasTarget, image: GPUBuffer, width: number, height: number): void {
    const { device } = this.ctx;
    device.queue.writeBuffer(this.dims, 0, new Uint32Array([width, height, 0, 0]));
    if (!this.group || this.group.image !== image) {
      const bg = device.createBindGroup({
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: image } },
          { binding: 1, resource: { buffer: this.dims } },
        ],
      });
      this.group = { image, bg };
    }
    const enc = device.createCommandEncoder({ label: 'viewer-present' });
    const pass = enc.beginRenderPass({
      colorAttachments: [{ view: target.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 1 } }],
    });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.group.bg);
    pass.draw(3);
    pass.end();
    device.queue.submit([enc.finish()]);
  }

  destroy(): void {
    this.dims.destroy();
  }
}

/**
 * The rasterizer's [H,W,5] float output as RGBA bytes, opaque: round(255·clamp(c, 0, 1)), the quantisation
 * of the GPU present path and of the workbench's PNGs. `out` has H·W·4 entries.
 */
export function quantizeRgba(image: Float32Array, out: Uint8ClampedArray | Uint8Array): void {
  const n = out.length / 4;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = Math.round(255 * Math.min(1, Math.max(0, image[5 * i + c]!)));
    out[4 * i + 3] = 255;
  }
}
