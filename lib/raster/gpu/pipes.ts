/** The compute pipelines of one blending variant, compiled together (forward, and optionally backward). */
import type { GpuContext } from '../../gpu/device.js';
import { ExclusiveScanPlan, getPipeline } from '../../gpu/index.js';
import { projectBackwardWgsl, reducePartialsWgsl } from './project-backward.wgsl.js';
import { projectKeysWgsl, projectSplitWgsl, projectWgsl, type ProjectLayout } from './project.wgsl.js';
import { rasterizeBackwardWgsl, type BackwardShape } from './rasterize-backward.wgsl.js';
import { rasterizeForwardWgsl, type BlendVariant } from './rasterize.wgsl.js';
import { RadixSortPlan, type SortConfig } from './sort.js';
import { emitWgsl, finalizeWgsl, setupWgsl, tilesWgsl } from './tiles.wgsl.js';

export interface BackwardPipes {
  backward: GPUComputePipeline;
  reducePartials: GPUComputePipeline;
  projectBackward: GPUComputePipeline;
}

export interface Pipes {
  project: GPUComputePipeline;
  /** The split layout's second projection kernel; null when fused. */
  projectKeys: GPUComputePipeline | null;
  gather: GPUComputePipeline;
  setup: GPUComputePipeline;
  emit: GPUComputePipeline;
  finalize: GPUComputePipeline;
  rasterize: GPUComputePipeline;
  /** Null when prepared forward-only. */
  bwd: BackwardPipes | null;
}

export const variantKey = (v: BlendVariant) => `${v.wabe ? 'wabe' : 'alpha'}${v.renorm ? '-renorm' : ''}${v.wabeGrad ? '-grad' : ''}`;

export interface PipeConfig {
  sortCfg: SortConfig;
  projectLayout: ProjectLayout;
  bwdShape: BackwardShape;
}

export async function compilePipes(ctx: GpuContext, v: BlendVariant, cfg: PipeConfig, forwardOnly: boolean): Promise<Pipes> {
  const { device } = ctx;
  const key = variantKey(v);
  const sortBlock = { SORT_BLOCK: cfg.sortCfg.wg * cfg.sortCfg.kpt };
  const split = cfg.projectLayout === 'split';
  const forward = Promise.all([
    getPipeline(device, { code: split ? projectSplitWgsl : projectWgsl, entryPoint: 'project', label: split ? 'project-split' : 'project' }),
    split ? getPipeline(device, { code: projectKeysWgsl, entryPoint: 'projectKeys', label: 'project-keys' }) : null,
    getPipeline(device, { code: tilesWgsl, entryPoint: 'gatherCounts', constants: sortBlock, label: 'gather-counts' }),
    getPipeline(device, { code: setupWgsl, entryPoint: 'setup', constants: sortBlock, label: 'tiles-setup' }),
    getPipeline(device, { code: emitWgsl, entryPoint: 'emit', label: 'emit' }),
    getPipeline(device, { code: finalizeWgsl, entryPoint: 'finalize', label: 'finalize' }),
    getPipeline(device, { code: rasterizeForwardWgsl(v), entryPoint: 'rasterize', label: `rasterize-${key}` }),
    new RadixSortPlan(ctx, 1, cfg.sortCfg).prepare(),
    new ExclusiveScanPlan(ctx, 1).prepare(),
  ]);
  const backward = forwardOnly
    ? Promise.resolve(null)
    : Promise.all([
        getPipeline(device, { code: rasterizeBackwardWgsl(v, cfg.bwdShape), entryPoint: 'rasterizeBackward', label: `rasterize-backward-${key}` }),
        getPipeline(device, { code: reducePartialsWgsl, entryPoint: 'reducePartials', label: 'reduce-partials' }),
        getPipeline(device, { code: projectBackwardWgsl, entryPoint: 'projectBackward', label: 'project-backward' }),
      ]).then(([backward, reducePartials, projectBackward]) => ({ backward, reducePartials, projectBackward }));
  const [[project, projectKeys, gather, setup, emit, finalize, rasterize], bwd] = await Promise.all([forward, backward]);
  return { project, projectKeys, gather, setup, emit, finalize, rasterize, bwd };
}
