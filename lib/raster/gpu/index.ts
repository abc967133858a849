/** The WGSL rasterizer: stages in their own modules, orchestrated by `GaussianRasterizer`. */
export { GaussianRasterizer, MEMORY_ROLES, readProjected } from './rasterizer.js';
export type { Allocate, ForwardState, GaussianBuffers, GradBuffers, MemoryRole, RasterizerOptions, RasterizerStats } from './rasterizer.js';
export { OUT_CHANNELS, blendVariant } from './rasterize.wgsl.js';
export type { BlendVariant } from './rasterize.wgsl.js';
export { RadixSortPlan, sortConfig } from './sort.js';
export type { SortConfig, SortCount, SortBuffers } from './sort.js';
export { PassRecorder } from './recorder.js';
