/** Synthetic datasets: region labels, sequences, the camera rig, the on-disk format, writer and ground truth. */
export { REGION_NAMES, Region, REGION_GROUPS } from '../head/regions.js';
export type { RegionName } from '../head/regions.js';
export { makeSequence, sampleIdentity, framesPerKey, EXPRESSION_NAMES, CATEGORIES } from './sequences.js';
export type { Sequence, SequenceKind, SequenceOptions, Category } from './sequences.js';
export { cameraRig, RIG_TARGET, RIG_AIM, RIG_FOCAL_802 } from './cameras.js';
export type { RigCamera, RigOptions } from './cameras.js';
export {
  loadDataset,
  loadFrameImages,
  loadFrameRgb,
  loadFrameAlpha,
  loadFrameLabels,
  SPLITS,
  SEQUENCES,
  SPLIT_DEFINITION,
  DATASET_FORMAT,
  DATASET_VERSION,
  headFromJson,
  headToJson,
  cameraFromJson,
  parseOrThrow,
  formatPath,
  stringifyCompact,
  datasetJson,
  transformsJson,
  frameJson,
  headJson,
} from './dataset.js';
export type { SyntheticDataset, DatasetSplit, DatasetFrame, FrameImages, SplitName, SequenceName, DatasetJson, TransformsJson, FrameJson, HeadJson, LoadOptions } from './dataset.js';
export { writeDataset, synthConfig, PRESETS, encodeRgbPng } from './writer.js';
export type { SynthConfig, PresetName, WriteOptions } from './writer.js';
export { renderGroundTruth, renderPosed, renderSettingsOf, poseFrames, subjectTexture } from './ground-truth.js';
export type { RenderSettings } from './ground-truth.js';
export { EDITS, EDIT_IDS, ORIGINAL_CAPTION, editSpec } from '../head/edits.js';
export type { EditId, EditSpec } from '../head/edits.js';
export { ensureDataset, configMismatches } from './ensure.js';
export { labelImage, regionLegend, REGION_COLOURS, pixelBox, mouthBox, unionBox, datasetSummary, datasetCameras, mouthOpenness, showcaseTimesteps, spreadCameras, overviewGrid, boundingBox, posedHead } from './views.js';
export type { DatasetCamera, OverviewOptions, PixelBox } from './views.js';
