/**
 * What the workbench needs of a head model, so that binding, reconstruction, editing, evaluation, the
 * viewer and the notebooks can run on ICT-FaceKit (ict-head.ts) or FLAME (flame/head.ts) alike: the
 * posed vertices for given parameters (CPU and GPU), the triangles Gaussians bind to, a region per
 * triangle for the metrics, and a few landmarks that edits place things by.
 *
 * Each model keeps its own parameter type `P` (ICT-FaceKit's HeadParams, FLAME's FlameParams); callers
 * that only move parameters around (datasets, sequences) stay generic over it.
 */
import type { GpuContext } from '../gpu/device.js';
import type { GpuProfiler } from '../gpu/timing.js';
import { Region } from './regions.js';
import type { Vec3 } from './math.js';

export { Region };

export interface HeadPoser<P> {
  /**
   * Encodes the posing of `frames` into `enc`: [F, V, 3] float32 (metres) in `verts`, a new storage buffer
   * that the caller owns; call `release()` after submitting.
   */
  encode(enc: GPUCommandEncoder, frames: P[]): Promise<{ verts: GPUBuffer; release: () => void }>;
  /** Posed meshes of `frames`, read back: [F, V, 3] metres. */
  pose(frames: P[]): Promise<Float32Array>;
  /**
   * Encodes one frame's posing into `out` ([V,3] float32, caller-owned) with persistent buffers: the
   * real-time path (one frame per submit).
   */
  encodeFrame(enc: GPUCommandEncoder, p: P, out: GPUBuffer, profiler?: GpuProfiler): Promise<void>;
  destroy(): void;
}

/** Landmarks of the neutral head (metres, the model's frame: y up, z out of the face, +x the subject's left). */
export interface HeadLandmarkPoints {
  eyeLeft: Vec3; // eyeball centre, subject's left
  eyeRight: Vec3;
  noseTip: Vec3;
  mouth: Vec3; // centre of the mouth opening
}

export interface Head<P> {
  /** 'ict-facekit' or 'flame'. */
  readonly kind: string;
  readonly vertexCount: number; // V
  readonly triangleCount: number; // T
  readonly faces: Uint32Array; // [T,3] vertex indices
  neutralParams(): P;
  /** Checks a parameter set's sizes; the error starts with `where`. */
  checkParams(p: P, where?: string): void;
  /** The posed mesh on the CPU: [V,3] float32, metres, world frame. */
  pose(p: P, out?: Float32Array): Float32Array;
  /** A GPU poser for this head (uploads its basis once; destroy() frees it). */
  gpuPoser(ctx: GpuContext): HeadPoser<P>;
  /** Region id (lib/head/regions.ts) of every triangle: the metrics' masks come from these. */
  triangleRegions(): Uint8Array;
  /** Where `triangleRegions` came from, in words (e.g. "FLAME_masks.pkl" or "geometry"). */
  readonly regionSource: string;
  /** Triangles that must keep at least one Gaussian (rendered surfaces). */
  boundTriangles(): Uint32Array;
  landmarks(): HeadLandmarkPoints;
}
