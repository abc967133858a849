/**
 * GaussianAvatars interop: subject folders (transforms files, per-timestep FLAME parameters), trained avatars
 * (point_cloud.ply + flame_param.npz) in and out, cameras to our contract, reconstruction on FLAME, and a
 * stand-in subject for CI and notebook 06.
 */
export { loadGaSubject, GA_SPLITS } from './subject.js';
export type { GaSubject, GaSplit, GaFrame, GaSplitName, GaLoadOptions } from './subject.js';
export { cameraFromTransforms, openGlCameraToWorldToOpenCv, worldToOpenCvToOpenGlCameraToWorld, downscaleCamera } from './camera.js';
export { readGaFlameFrame, gaFlameFrame, encodeGaFlameFrame } from './flame-params.js';
export type { GaFlameFrame } from './flame-params.js';
export {
  readGaAvatar,
  parseGaAvatar,
  encodeGaAvatar,
  readGaSequence,
  gaSequence,
  encodeGaSequence,
  writeGaAvatar,
  worldGaussians,
  GA_PLY,
  GA_PARAMS,
} from './avatar.js';
export type { GaSequence } from './avatar.js';
export { importGa } from './import.js';
export type { ImportGaOptions } from './import.js';
export { reconstructOnHead } from './recon.js';
export { renderGa } from './render.js';
export { rasterizeRegionLabels, headRegionLabels } from './labels.js';
export type { RenderGaOptions } from './render.js';
export type { PosedView, HeadReconOptions } from './recon.js';
export { writeDemo, demoAvatar, recolourRegion, renderAvatarReference } from './demo.js';
export type { DemoFiles } from './demo.js';
