/**
 * Seeded random numbers. Every stochastic choice in the workbench (initialisation, view sampling, editor
 * jitter, test inputs) draws from one of these so a run is reproducible from its seed.
 */

/** The lowbias32 integer hash (also the benchmark scene's generator, see bench/synthetic-scene.md). */
export function lowbias32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** A small, fast, seedable PRNG (mulberry32); state is one u32 so it can be checkpointed. */
export class Rng {
  state: number;
  constructor(seed: number) {
    this.state = lowbias32(seed ^ 0x9e3779b9) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}
