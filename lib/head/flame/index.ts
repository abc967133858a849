/** FLAME (the user's own model file) with GaussianAvatars' teeth, behind the head interface (../head.ts). */
export { loadFlame, parseFlame, FLAME_JOINTS, FLAME_SHAPE_COUNT, FLAME_EXPR_COUNT } from './model.js';
export type { FlameModel, FlameLoadOptions } from './model.js';
export { neutralFlameParams, checkFlameParams, flameFrame, poseFlame, poseFlame64 } from './lbs.js';
export type { FlameParams, FlameFrame } from './lbs.js';
export { GpuFlamePoser } from './gpu-pose.js';
export { FlameHead } from './head.js';
export type { FlameHeadOptions } from './head.js';
export { loadFlameMasks, regionsFromMasks, regionsFromGeometry } from './regions.js';
export type { FlameMasks } from './regions.js';
export { teethTriangles, teethVertices, FLAME_LIP_RING_UPPER, FLAME_LIP_RING_LOWER, TEETH_VERTEX_COUNT, TEETH_TRIANGLE_COUNT } from './teeth.js';
export type { LipRings } from './teeth.js';
