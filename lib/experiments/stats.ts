/**
 * Small statistics for aggregating runs over seeds: mean, sample standard deviation and the Student-t 95%
 * confidence half-width t_{0.975, n−1} · s / √n. The t quantile is computed (regularised incomplete beta by
 * a continued fraction, then bisection), not looked up, so any n works. Comparisons between arms use paired
 * per-frame differences with a seeded two-stage (seed, then frame) bootstrap interval.
 */
import { Rng } from '../util/random.js';

/** ln Γ(x) for x a positive multiple of 1/2 (all the t distribution with integer df needs), exactly by recurrence. */
function lnGammaHalf(x: number): number {
  if (!(x > 0) || Math.abs(2 * x - Math.round(2 * x)) > 1e-12) throw new Error(`lnGammaHalf: ${x} is not a positive multiple of 1/2`);
  let v = Number.isInteger(x) ? 0 : 0.5 * Math.log(Math.PI); // Γ(1) = 1, Γ(1/2) = √π
  for (let y = Number.isInteger(x) ? 1 : 0.5; y < x - 1e-9; y += 1) v += Math.log(y);
  return v;
}

/** Continued fraction of the incomplete beta (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    // even step
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    // odd step
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) return f;
  }
  throw new Error('incomplete beta: continued fraction did not converge');
}

/** Regularised incomplete beta I_x(a, b) for a, b positive multiples of 1/2. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = a * Math.log(x) + b * Math.log(1 - x) - (lnGammaHalf(a) + lnGammaHalf(b) - lnGammaHalf(a + b));
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaFraction(1 - x, b, a)) / b;
}

/** CDF of Student's t with integer df. */
export function studentTCdf(t: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`studentTCdf: df must be a positive integer, got ${df}`);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t with integer df (p in (0, 1)). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export interface Summary {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1); null for n < 2. */
  sd: number | null;
  /** 95% CI half-width (Student t); null for n < 2: one seed gives no interval. */
  ci95: number | null;
}

/** Mean ± 95% CI of the finite values (null, NaN and ±Infinity are not samples). */
export function summarize(values: ReadonlyArray<number | null | undefined>): Summary {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n, mean: null, sd: null, ci95: null };
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { n, mean, sd: null, ci95: null };
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, ci95: (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n) };
}

export interface BootstrapInterval {
  /** Units (paired differences) behind the interval, and the clusters (seeds) they fall in. */
  n: number;
  clusters: number;
  mean: number | null;
  /** Percentile bootstrap interval at `level`; null with no units. */
  lo: number | null;
  hi: number | null;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Seed of the resampling (default 0): the same data gives the same interval. */
  seed?: number;
  /** Coverage (default 0.95). */
  level?: number;
}

/** Quantile q of sorted values, linear between order statistics (type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error('quantileSorted: no values');
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  const j = Math.min(sorted.length - 1, i + 1);
  return sorted[i]! + (h - i) * (sorted[j]! - sorted[i]!);
}

/**
 * Mean of grouped values (say, per-frame differences between two arms, grouped by seed) with a two-stage
 * percentile bootstrap interval: each resample draws the clusters with replacement, then the units inside each
 * drawn cluster with replacement, and takes the mean over every drawn unit. Frames of one seed share that
 * seed's trained avatar, so resampling frames alone would ignore the seed-to-seed variation and give too
 * narrow an interval; with a single cluster this is the ordinary bootstrap of the mean. Non-finite values are
 * not units; empty clusters are dropped.
 */
export function clusterBootstrap(clusters: ReadonlyArray<ReadonlyArray<number>>, opts: BootstrapOptions = {}): BootstrapInterval {
  const cs = clusters.map((c) => Float64Array.from(c.filter((v) => Number.isFinite(v)))).filter((c) => c.length > 0);
  const n = cs.reduce((s, c) => s + c.length, 0);
  if (n === 0) return { n: 0, clusters: 0, mean: null, lo: null, hi: null };
  let total = 0;
  for (const c of cs) for (const v of c) total += v;
  const mean = total / n;
  const B = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`clusterBootstrap: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(B) || B < 1) throw new Error(`clusterBootstrap: resamples must be a positive integer, got ${B}`);
  const rng = new Rng((opts.seed ?? 0) ^ 0xb0075);
  const stats = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let sum = 0;
    let count = 0;
    for (let k = 0; k < cs.length; k++) {
      const c = cs[rng.int(cs.length)]!;
      for (let i = 0; i < c.length; i++) sum += c[rng.int(c.length)]!;
      count += c.length;
    }
    stats[b] = sum / count;
  }
  stats.sort();
  return { n, clusters: cs.length, mean, lo: quantileSorted(stats, (1 - level) / 2), hi: quantileSorted(stats, 1 - (1 - level) / 2) };
}

/** Whether an interval lies entirely on one side of zero. */
export function excludesZero(iv: Pick<BootstrapInterval, 'lo' | 'hi'>): boolean {
  return iv.lo !== null && iv.hi !== null && (iv.lo > 0 || iv.hi < 0);
}
