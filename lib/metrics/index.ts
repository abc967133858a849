export { psnr, ssim, ssimMap, meanSsim, mse, gaussianWindow, type Mask, type SsimOptions, type PsnrOptions, type SsimMap } from './image.js';
export { regionMask, regionMetrics, poolRegionScores, type LabelMap, type RegionScore, type RegionMetricsOptions } from './regions.js';
export { temporalFlicker, viewConsistency, type ResidualFrame, type ResidualView, type FlickerResult, type ViewConsistencyResult } from './temporal.js';
export {
  clipDirectionalSimilarity,
  clipDirectionConsistency,
  clipScores,
  cosine,
  NO_EMBEDDER_NOTE,
  type Embedder,
  type EditPair,
  type Captions,
  type ClipScores,
  type ClipSeries,
} from './clip.js';
export { createLocalClipEmbedder, checkClipModelDir, DEFAULT_CLIP_MODEL_DIR, type LocalClipOptions } from './clip-local.js';
export { createHfClipEmbedder, type HfClipOptions } from './clip-hf.js';
export { metricNames, REPORT_REGIONS, REGION_LABELS } from './names.js';
export { createEmbedder, clipConfigFromEnv, ClipConfigSchema, type ClipConfig } from './clip-config.js';
export {
  REGION_NEIGHBOURS,
  guardedRegions,
  editFrameSums,
  residualFlicker,
  editScores,
  poolEditSums,
  type EditFrameSums,
  type EditFrameImages,
  type EditScores,
} from './edit-scores.js';
