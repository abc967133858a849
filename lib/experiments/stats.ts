/**
 * Small statistics for aggregating runs over seeds: mean, sample standard deviation and the Student-t 95%
 * confidence half-width t_{0.975, n−1} · s / √n. The t quantile is computed (regularised incomplete beta by
 * a continued fraction, then bisection), not looked up, so any n works.
 */

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
