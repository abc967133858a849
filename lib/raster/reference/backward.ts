/**
 * Backward passes of the float64 reference: rasterize (pixels → per-Gaussian splat gradients) and
 * projection (splat gradients → stored parameters), for alpha blending and every WABE variant.
 *
 * Derivation of the blending gradients (one pixel; k runs over the Gaussians blended, front to back).
 *   T_1 = 1, T_{k+1} = T_k (1 − α_k), T_f = T_{n+1}; ∂T_j/∂α_k = −T_j / (1 − α_k) for j > k, 0 for j ≤ k.
 *   w_k = exp(−β (1 − T_k)) (WABE) or 1 (alpha); ∂w_j/∂α_k = β w_j ∂T_j/∂α_k, taken as 0 under stopGradient.
 *   N = Σ_k w_k c_k α_k T_k (RGB), D = Σ_k w_k α_k T_k, A = 1 − T_f.
 *   Not renormalised: C = N + T_f·bg. Renormalised: C = (N / D)(1 − T_f) + T_f·bg.
 * Writing P = (1 − T_f)/D and C̄ = N/D when renormalised (P = 1, C̄ = 0 otherwise), both cases read
 *   ∂C/∂c_k = P w_k α_k T_k,
 *   ∂C/∂α_k = P [ w_k (c_k − C̄) T_k − (S_N − C̄ S_D) / (1 − α_k) ] − (bg − C̄) T_f / (1 − α_k),
 *   ∂A/∂α_k = T_f / (1 − α_k),
 * with the suffix sums over the Gaussians behind k
 *   S_N = Σ_{j>k} w_j c_j α_j T_j (1 + β' T_j),   S_D = Σ_{j>k} w_j α_j T_j (1 + β' T_j),
 * where β' = β when w is differentiated (WABE, stopGradient false) and 0 otherwise: the (1 + β' T_j) factor is
 * ∂(w_j T_j)/∂T_j · T_j / (w_j T_j), i.e. w_j's own dependence on α_k through T_j. For alpha blending
 * (w = 1, P = 1, C̄ = 0) this is 3DGS's T_k (c_k − accum_k) − T_f bg / (1 − α_k). The pass walks back to front,
 * reconstructing T_k = T_{k+1} / (1 − α_k) from T_f, so the suffix sums are running sums.
 *
 * Then α_k = min(0.99, o_k G_k), G_k = exp(power): through the clamp the derivative is 0 (we differentiate
 * the forward exactly; 3DGS's CUDA backward ignores the clamp here), otherwise ∂α/∂o = G, ∂α/∂power = o G.
 */
import type { Camera, GaussianGrads, Projected, ProjectedGrads, RasterSettings } from '../types.js';
import { activeShDegree, projectionContext, sigmoid, splatGeometry, type ReferenceGaussians } from './project.js';
import { sampleSplat, type ReferenceRender, type SplatSample } from './rasterize.js';
import { shColor, shColorBackward } from './sh.js';
import { TILE_SIZE, type TileLists } from './tiles.js';

/** `ProjectedGrads` in float64. */
export interface ReferenceProjectedGrads extends ProjectedGrads {
  means2D: Float64Array; // [N,2]
  conics: Float64Array; // [N,3]
  colors: Float64Array; // [N,3]
  opacities: Float64Array; // [N]
}

/** `GaussianGrads` in float64. */
export interface ReferenceGrads extends GaussianGrads {
  means: Float64Array; // [N,3]
  logScales: Float64Array; // [N,3]
  quats: Float64Array; // [N,4]
  opacityLogits: Float64Array; // [N]
  sh: Float64Array; // [N,K,3]
  means2D: Float64Array; // [N,2]
}

interface Blended {
  id: number;
  smp: SplatSample;
  T: number; // transmittance before this Gaussian
}

/**
 * ∂L/∂(means2D, conics, colors, opacities) for L = Σ dLdColor·color + Σ dLdAlpha·alpha, given the forward
 * pass `fwd` of the same inputs (its alpha gives T_f, its lastIndex where each pixel's walk starts).
 */
export function rasterizeBackwardReference(
  p: Projected,
  tiles: TileLists,
  cam: Camera,
  s: RasterSettings,
  fwd: Pick<ReferenceRender, 'alpha' | 'lastIndex'> | { alpha: ArrayLike<number>; lastIndex: ArrayLike<number> },
  dLdColor: ArrayLike<number>, // [H,W,3]
  dLdAlpha?: ArrayLike<number>, // [H,W]
): ReferenceProjectedGrads {
  const n = p.count;
  const g = { means2D: new Float64Array(2 * n), conics: new Float64Array(3 * n), colors: new Float64Array(3 * n), opacities: new Float64Array(n) };
  const { width: w, height: h } = cam;
  if (dLdColor.length !== 3 * w * h) throw new Error(`rasterizeBackwardReference: dLdColor has ${dLdColor.length} entries, expected ${3 * w * h}`);
  if (dLdAlpha && dLdAlpha.length !== w * h) throw new Error(`rasterizeBackwardReference: dLdAlpha has ${dLdAlpha.length} entries, expected ${w * h}`);
  const wabe = s.blend === 'wabe';
  const beta = s.wabe.beta;
  const betaD = wabe && !s.wabe.stopGradient ? beta : 0; // β' above
  const renorm = wabe && s.wabe.renormalize;
  const bg = s.background;
  const list: Blended[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const pix = y * w + x;
      const tile = Math.floor(y / TILE_SIZE) * tiles.gridW + Math.floor(x / TILE_SIZE);
      const start = tiles.tileRanges[2 * tile]!;
      const px = x + 0.5,
        py = y + 0.5;
      const Tf = 1 - fwd.alpha[pix]!;
      // Pass 1, back to front: the blended Gaussians and their T_k, reconstructed from T_f.
      list.length = 0;
      let T = Tf;
      for (let e = start + fwd.lastIndex[pix]! - 1; e >= start; e--) {
        const id = tiles.gaussianIds[e]!;
        const smp = sampleSplat(p, id, px, py);
        if (smp === null) continue;
        T /= 1 - smp.alpha;
        list.push({ id, smp, T });
      }
      if (list.length === 0) continue;
      const weight = (Tk: number) => (wabe ? Math.exp(-beta * (1 - Tk)) : 1);
      let P = 1;
      const Cbar = [0, 0, 0];
      if (renorm) {
        let D = 0;
        const N = [0, 0, 0];
        for (const b of list) {
          const wat = weight(b.T) * b.smp.alpha * b.T;
          D += wat;
          for (let c = 0; c < 3; c++) N[c]! += wat * p.colors[3 * b.id + c]!;
        }
        P = (1 - Tf) / D;
        for (let c = 0; c < 3; c++) Cbar[c] = N[c]! / D;
      }
      const gC = [dLdColor[3 * pix]!, dLdColor[3 * pix + 1]!, dLdColor[3 * pix + 2]!];
      const gA = dLdAlpha ? dLdAlpha[pix]! : 0;
      // Pass 2, back to front, with the suffix sums S_N, S_D.
      const SN = [0, 0, 0];
      let SD = 0;
      for (const { id, smp, T: Tk } of list) {
        const a = smp.alpha;
        const wk = weight(Tk);
        const inv = 1 / (1 - a);
        let dLda = gA * Tf * inv;
        for (let c = 0; c < 3; c++) {
          const ck = p.colors[3 * id + c]!;
          const dCda = P * (wk * (ck - Cbar[c]!) * Tk - (SN[c]! - Cbar[c]! * SD) * inv) - (bg[c]! - Cbar[c]!) * Tf * inv;
          dLda += gC[c]! * dCda;
          g.colors[3 * id + c]! += gC[c]! * P * wk * a * Tk;
        }
        const grow = wk * a * Tk * (1 + betaD * Tk);
        for (let c = 0; c < 3; c++) SN[c]! += grow * p.colors[3 * id + c]!;
        SD += grow;

        if (smp.alphaClamped) continue; // α = 0.99 does not move with o or G
        const o = p.opacities[id]!;
        g.opacities[id]! += smp.G * dLda;
        const dLdpower = o * smp.G * dLda;
        const A = p.conics[3 * id]!,
          B = p.conics[3 * id + 1]!,
          C = p.conics[3 * id + 2]!;
        const { dx, dy } = smp; // d = means2D − pixel centre, so ∂d/∂means2D = +1
        g.means2D[2 * id]! += dLdpower * -(A * dx + B * dy);
        g.means2D[2 * id + 1]! += dLdpower * -(C * dy + B * dx);
        g.conics[3 * id]! += dLdpower * -0.5 * dx * dx;
        g.conics[3 * id + 1]! += dLdpower * -dx * dy;
        g.conics[3 * id + 2]! += dLdpower * -0.5 * dy * dy;
      }
    }
  }
  return g;
}

/**
 * Chains splat gradients to the stored parameters:
 *   opacity = sigmoid(o):            ∂/∂o = σ(1 − σ)
 *   conic = (c, −b, a)/det:          ∂(conic)/∂(a, b, c) by the quotient rule (below)
 *   cov2D = T Σ Tᵀ + lowpass·I, T = J W₃: ∂L/∂Σ = Tᵀ Ĝ T and ∂L/∂T = 2 Ĝ T Σ, Ĝ = [[g_a, g_b/2], [g_b/2, g_c]]
 *   Σ = M Mᵀ, M = R diag(exp s):     ∂L/∂M = 2 (∂L/∂Σ) M, then ∂/∂s_j = exp(s_j) Σ_i ∂L/∂M_ij R_ij, ∂L/∂R = ∂L/∂M diag(exp s)
 *   R(q̂), q̂ = q/|q|:                ∂L/∂q = (I − q̂ q̂ᵀ) ∂L/∂q̂ / |q|
 *   J(t) with t the camera-space mean, as 3DGS's backward: where x/z is clamped ∂J/∂t_x = 0 and ∂J/∂t_z uses
 *   the clamped x (not the exact derivative of the clamped J there; finite-difference tests avoid the clamp)
 *   means2D = (fx x/z + cx, fy y/z + cy), colour = SH(normalize(μ − campos)), t = W₃ μ + t₀.
 */
export function projectBackwardReference(g: ReferenceGaussians, cam: Camera, s: RasterSettings, p: Projected, pg: ProjectedGrads): ReferenceGrads {
  const n = g.count;
  const K = (g.shDegree + 1) * (g.shDegree + 1);
  const degree = activeShDegree(g, s);
  const out = {
    means: new Float64Array(3 * n),
    logScales: new Float64Array(3 * n),
    quats: new Float64Array(4 * n),
    opacityLogits: new Float64Array(n),
    sh: new Float64Array(3 * K * n),
    means2D: Float64Array.from(pg.means2D),
  };
  const ctx = projectionContext(cam);
  const W = ctx.W;
  for (let i = 0; i < n; i++) {
    if (p.radii[i]! <= 0) continue;
    const geo = splatGeometry(g, i, cam, s, ctx);
    if (geo.culled)
      throw new Error(`projectBackwardReference: Gaussian ${i} has radius ${p.radii[i]} but projects as culled; pass the Projected of these Gaussians`);

    const sig = sigmoid(g.opacityLogits[i]!);
    out.opacityLogits[i] = pg.opacities[i]! * sig * (1 - sig);

    // Colour → SH coefficients and the view direction → mean.
    const gMean = [0, 0, 0];
    const base = i * K * 3;
    const { clamped } = shColor(g.sh, base, degree, geo.dir);
    const gDir = shColorBackward(g.sh, base, degree, geo.dir, clamped, [pg.colors[3 * i]!, pg.colors[3 * i + 1]!, pg.colors[3 * i + 2]!], out.sh);
    const dDotG = geo.dir[0] * gDir[0] + geo.dir[1] * gDir[1] + geo.dir[2] * gDir[2];
    for (let a = 0; a < 3; a++) gMean[a]! += (gDir[a]! - geo.dir[a]! * dDotG) / geo.dirNorm;

    // Conic → cov2D (a, b, c). A = c/det, B = −b/det, C = a/det, det = ac − b².
    const [a, b, c] = geo.cov2D;
    const d2 = geo.det * geo.det;
    const gA = pg.conics[3 * i]!,
      gB = pg.conics[3 * i + 1]!,
      gC = pg.conics[3 * i + 2]!;
    const ga = (gA * -c * c + gB * b * c + gC * -b * b) / d2;
    const gb = (gA * 2 * b * c + gB * -(a * c + b * b) + gC * 2 * a * b) / d2;
    const gc = (gA * -b * b + gB * a * b + gC * -a * a) / d2;
    const Gh = [ga, gb / 2, gb / 2, gc]; // Ĝ, 2×2

    // cov2D → Σ and T.
    const Tm = geo.T;
    const GT = new Array<number>(6).fill(0); // Ĝ T, 2×3
    for (let r = 0; r < 2; r++) for (let col = 0; col < 3; col++) for (let k = 0; k < 2; k++) GT[3 * r + col]! += Gh[2 * r + k]! * Tm[3 * k + col]!;
    const gSigma = new Array<number>(9).fill(0); // Tᵀ Ĝ T
    for (let r = 0; r < 3; r++) for (let col = 0; col < 3; col++) for (let k = 0; k < 2; k++) gSigma[3 * r + col]! += Tm[3 * k + r]! * GT[3 * k + col]!;
    const gT = new Array<number>(6).fill(0); // 2 Ĝ T Σ
    for (let r = 0; r < 2; r++) for (let col = 0; col < 3; col++) for (let k = 0; k < 3; k++) gT[3 * r + col]! += 2 * GT[3 * r + k]! * geo.Sigma[3 * k + col]!;

    // T = J W₃ → J (row-major W, so W₃[k][c] = W[4k + c]).
    const gJ = new Array<number>(6).fill(0);
    for (let r = 0; r < 2; r++) for (let k = 0; k < 3; k++) for (let col = 0; col < 3; col++) gJ[3 * r + k]! += gT[3 * r + col]! * W[4 * k + col]!;

    // J → t (3DGS's clamp handling), and means2D → t.
    const [tx, ty, tz] = geo.t;
    const { fx, fy } = cam;
    const tz2 = tz * tz;
    const gt = [0, 0, 0];
    gt[0] += geo.clampX ? 0 : (-fx / tz2) * gJ[2]!;
    gt[1] += geo.clampY ? 0 : (-fy / tz2) * gJ[5]!;
    gt[2] += (-fx / tz2) * gJ[0]! + (-fy / tz2) * gJ[4]! + ((2 * fx * geo.txz) / tz2) * gJ[2]! + ((2 * fy * geo.tyz) / tz2) * gJ[5]!;
    const gu = pg.means2D[2 * i]!,
      gv = pg.means2D[2 * i + 1]!;
    gt[0] += (gu * fx) / tz;
    gt[1] += (gv * fy) / tz;
    gt[2] += (-gu * fx * tx) / tz2 - (gv * fy * ty) / tz2;
    for (let a = 0; a < 3; a++) for (let k = 0; k < 3; k++) gMean[a]! += W[4 * k + a]! * gt[k]!;
    out.means.set(gMean, 3 * i);

    // Σ = M Mᵀ → M → (scale, R).
    const gM = new Array<number>(9).fill(0);
    for (let r = 0; r < 3; r++) for (let col = 0; col < 3; col++) for (let k = 0; k < 3; k++) gM[3 * r + col]! += 2 * gSigma[3 * r + k]! * geo.M[3 * k + col]!;
    const gR = new Array<number>(9);
    for (let j = 0; j < 3; j++) {
      let gs = 0;
      for (let r = 0; r < 3; r++) {
        gs += gM[3 * r + j]! * geo.R[3 * r + j]!;
        gR[3 * r + j] = gM[3 * r + j]! * geo.scale[j]!;
      }
      out.logScales[3 * i + j] = gs * geo.scale[j]!;
    }

    // R(q̂) → q̂ → q.
    const [w, x, y, z] = geo.qn;
    const dot9 = (m: number[]) => m.reduce((acc, v, k) => acc + v * gR[k]!, 0);
    const gq = [
      dot9([0, -2 * z, 2 * y, 2 * z, 0, -2 * x, -2 * y, 2 * x, 0]),
      dot9([0, 2 * y, 2 * z, 2 * y, -4 * x, -2 * w, 2 * z, 2 * w, -4 * x]),
      dot9([-4 * y, 2 * x, 2 * w, 2 * x, 0, 2 * z, -2 * w, 2 * z, -4 * y]),
      dot9([-4 * z, -2 * w, 2 * x, 2 * w, -4 * z, 2 * y, 2 * x, 2 * y, 0]),
    ];
    const qDotG = w * gq[0]! + x * gq[1]! + y * gq[2]! + z * gq[3]!;
    for (let k = 0; k < 4; k++) out.quats[4 * i + k] = (gq[k]! - geo.qn[k]! * qDotG) / geo.qNorm;
  }
  return out;
}
