/**
 * Bind groups cached by (pipeline, buffers): the rasterizer re-binds the same scratch buffers every frame,
 * and creating bind groups is a measurable CPU cost per dispatch in Dawn's Node binding.
 */
import type { Binding } from '../../gpu/index.js';

const ids = new WeakMap<object, number>();
let nextId = 1;
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

export class BindGroupCache {
  private cache = new Map<string, GPUBindGroup>();

  constructor(private readonly device: GPUDevice) {}

  get(pipeline: GPUComputePipeline, resources: Record<number, Binding>): GPUBindGroup {
    let key = `${idOf(pipeline)}`;
    for (const [b, r] of Object.entries(resources)) {
      key += 'buffer' in r ? `|${b}:${idOf(r.buffer)}@${r.offset ?? 0}+${r.size ?? -1}` : `|${b}:${idOf(r)}`;
    }
    let bg = this.cache.get(key);
    if (!bg) {
      if (this.cache.size > 4096) this.cache.clear(); // buffers come and go (tfjs pool); bound the map
      bg = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: Object.entries(resources).map(([b, r]) => ({ binding: Number(b), resource: 'buffer' in r ? r : { buffer: r } })),
      });
      this.cache.set(key, bg);
    }
    return bg;
  }

  clear(): void {
    this.cache.clear();
  }
}
