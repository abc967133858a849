/**
 * One sampler for every subset of views the workbench picks: the edited dataset of the editing loop
 * (docs/method.md §3) and the evaluation frames (docs/method.md §6).
 *
 * Frames form a grid of cameras × timesteps. Taking evenly strided entries of a list ordered timestep-major
 * aliases with the camera count (13 cameras, stride 208/48: only cameras 2, 6 and 10 were ever used), so
 * instead the sampler balances the two axes explicitly: it picks frames one at a time, each time a frame
 * whose camera and timestep have been picked least so far (a frame with a camera or timestep not yet used
 * first, then the sum of the two counts), breaking ties by a seeded random rank. On a full grid the first
 * max(cameras, timesteps) picks therefore use every camera and every timestep, on a partial grid (say the
 * mouth-open frames only) the first cameras + timesteps picks do, and any prefix of the result is balanced.
 */
import { Rng } from '../util/random.js';

const UNUSED = 1 << 20;

export interface GridFrame {
  cameraIndex: number;
  timestep: number;
}

/**
 * `n` frames of `frames` stratified over cameras × timesteps, in pick order (a seeded permutation; each prefix
 * is balanced). `n` ≤ 0 or ≥ the count returns every frame, in the same balanced order.
 */
export function stratifiedSample<T extends GridFrame>(frames: readonly T[], n: number, seed: number): T[] {
  if (!Number.isInteger(n)) throw new Error(`stratifiedSample: n must be an integer, got ${n}`);
  const count = n <= 0 || n >= frames.length ? frames.length : n;
  const rng = new Rng(seed ^ 0x5a3b1e);
  // A random rank per frame (Fisher–Yates over positions) breaks ties between equally used frames.
  const rank = Array.from(frames, (_, i) => i);
  for (let i = rank.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [rank[i], rank[j]] = [rank[j]!, rank[i]!];
  }
  const camUsed = new Map<number, number>();
  const timeUsed = new Map<number, number>();
  const taken = new Uint8Array(frames.length);
  const out: T[] = [];
  for (let k = 0; k < count; k++) {
    let best = -1;
    let bestScore = Infinity;
    for (let i = 0; i < frames.length; i++) {
      if (taken[i]) continue;
      const f = frames[i]!;
      const cu = camUsed.get(f.cameraIndex) ?? 0, tu = timeUsed.get(f.timestep) ?? 0;
      // An unused camera or timestep comes first whatever the other axis's count (partial grids).
      const score = cu + tu - (cu === 0 ? UNUSED : 0) - (tu === 0 ? UNUSED : 0);
      if (score < bestScore || (score === bestScore && rank[i]! < rank[best]!)) {
        best = i;
        bestScore = score;
      }
    }
    const f = frames[best]!;
    taken[best] = 1;
    camUsed.set(f.cameraIndex, (camUsed.get(f.cameraIndex) ?? 0) + 1);
    timeUsed.set(f.timestep, (timeUsed.get(f.timestep) ?? 0) + 1);
    out.push(f);
  }
  return out;
}

/** Indices 0..n−1 of a list of grid frames, stratified as `stratifiedSample` picks them. */
export function stratifiedIndices(frames: readonly GridFrame[], n: number, seed: number): number[] {
  return stratifiedSample(
    frames.map((f, i) => ({ cameraIndex: f.cameraIndex, timestep: f.timestep, i })),
    n,
    seed,
  ).map((f) => f.i);
}
