/**
 * float64 reference of the multiresolution hash encoding (hashgrid-config.ts), forward and backward, against
 * which the WGSL kernels are tested. A point x ∈ [0,1]³ (clamped) at level l lies in the cell with lower
 * corner i = min(⌊x N_l⌋, N_l − 1) and fraction f = x N_l − i; its L·F features are the trilinear blend of the
 * cell's 8 vertex entries:
 *
 *   enc_l(x) = Σ_c w_c(f) · table_l[index_l(i + c)],   w_c = Π_axis (c_a ? f_a : 1 − f_a)
 *
 * The encoding is linear in the tables, so the backward pass scatters w_c · ∂L/∂enc_l into each vertex entry.
 * Positions get no gradient: the canonical points come from the fixed mesh, nothing upstream learns.
 */
import { HASH_PRIMES, hashLevels, hashOutputWidth, hashParamCount, type HashGridConfig, type HashLevel } from './hashgrid-config.js';

/** Table index of grid vertex (x, y, z) at a level: dense below the table size, else the XOR-prime hash. */
export function hashIndex(level: HashLevel, log2T: number, x: number, y: number, z: number): number {
  if (level.dense) {
    const n = level.resolution + 1;
    return x + n * (y + n * z);
  }
  // u32 wrap-around products, exactly as in WGSL.
  const h = (Math.imul(x, HASH_PRIMES[0]) ^ Math.imul(y, HASH_PRIMES[1]) ^ Math.imul(z, HASH_PRIMES[2])) >>> 0;
  return h & (2 ** log2T - 1);
}

export interface CellCorners {
  index: Int32Array; // [8] table indices within the level
  weight: Float64Array; // [8] trilinear weights (sum 1)
}

/** The 8 vertices and weights of `p` (clamped into [0,1]³) at `level`. Corner c has offsets (c&1, c>>1&1, c>>2). */
export function cellCorners(level: HashLevel, log2T: number, px: number, py: number, pz: number, out?: CellCorners): CellCorners {
  const res = out ?? { index: new Int32Array(8), weight: new Float64Array(8) };
  const N = level.resolution;
  const i = [0, 0, 0];
  const f = [0, 0, 0];
  [px, py, pz].forEach((v, a) => {
    const s = Math.min(Math.max(v, 0), 1) * N;
    i[a] = Math.min(Math.floor(s), N - 1);
    f[a] = s - i[a]!;
  });
  for (let c = 0; c < 8; c++) {
    const dx = c & 1,
      dy = (c >> 1) & 1,
      dz = c >> 2;
    res.index[c] = hashIndex(level, log2T, i[0]! + dx, i[1]! + dy, i[2]! + dz);
    res.weight[c] = (dx ? f[0]! : 1 - f[0]!) * (dy ? f[1]! : 1 - f[1]!) * (dz ? f[2]! : 1 - f[2]!);
  }
  return res;
}

/** Encoding of N points: [N, L·F] from points [N,3] in [0,1]³ and tables [L, T, F]. */
export function encodeReference(cfg: HashGridConfig, points: ArrayLike<number>, tables: ArrayLike<number>): Float64Array {
  checkSizes(cfg, points, tables, 'encodeReference');
  const levels = hashLevels(cfg);
  const T = 2 ** cfg.log2TableSize,
    F = cfg.features,
    W = hashOutputWidth(cfg);
  const n = points.length / 3;
  const out = new Float64Array(n * W);
  const cc: CellCorners = { index: new Int32Array(8), weight: new Float64Array(8) };
  for (let p = 0; p < n; p++) {
    for (let l = 0; l < levels.length; l++) {
      cellCorners(levels[l]!, cfg.log2TableSize, points[3 * p]!, points[3 * p + 1]!, points[3 * p + 2]!, cc);
      for (let c = 0; c < 8; c++) {
        const base = (l * T + cc.index[c]!) * F;
        for (let f = 0; f < F; f++) out[p * W + l * F + f]! += cc.weight[c]! * tables[base + f]!;
      }
    }
  }
  return out;
}

/** ∂L/∂tables [L, T, F] from ∂L/∂encoding [N, L·F]. */
export function encodeBackwardReference(cfg: HashGridConfig, points: ArrayLike<number>, dOut: ArrayLike<number>): Float64Array {
  const levels = hashLevels(cfg);
  const T = 2 ** cfg.log2TableSize,
    F = cfg.features,
    W = hashOutputWidth(cfg);
  const n = points.length / 3;
  if (dOut.length !== n * W) throw new Error(`encodeBackwardReference: dOut has ${dOut.length} values, expected ${n} × ${W}`);
  const grad = new Float64Array(hashParamCount(cfg));
  const cc: CellCorners = { index: new Int32Array(8), weight: new Float64Array(8) };
  for (let p = 0; p < n; p++) {
    for (let l = 0; l < levels.length; l++) {
      cellCorners(levels[l]!, cfg.log2TableSize, points[3 * p]!, points[3 * p + 1]!, points[3 * p + 2]!, cc);
      for (let c = 0; c < 8; c++) {
        const base = (l * T + cc.index[c]!) * F;
        for (let f = 0; f < F; f++) grad[base + f]! += cc.weight[c]! * dOut[p * W + l * F + f]!;
      }
    }
  }
  return grad;
}

function checkSizes(cfg: HashGridConfig, points: ArrayLike<number>, tables: ArrayLike<number>, where: string): void {
  if (points.length % 3 !== 0) throw new Error(`${where}: points has ${points.length} values, not a multiple of 3`);
  const want = hashParamCount(cfg);
  if (tables.length !== want) throw new Error(`${where}: tables has ${tables.length} values, expected L·T·F = ${want}`);
}
