/**
 * The rasterizer's data contract, shared by the float64 reference (`lib/raster/reference/`), the WGSL
 * kernels (`lib/raster/gpu/`), the avatar, the datasets and the benchmarks.
 *
 * Conventions (as gsplat / 3DGS, stated once here):
 * - Cameras are OpenCV-style: x right, y down, z forward; pixel (i, j) covers [i, i+1) × [j, j+1), so its
 *   centre is at (i + 0.5, j + 0.5), and a camera-space point projects to u = fx·x/z + cx, v = fy·y/z + cy.
 * - Matrices are row-major 4×4 (`m[r * 4 + c]`), acting on column vectors: p_cam = W · p_world.
 * - Quaternions are (w, x, y, z) and are normalised inside the kernels (the stored values need not be).
 * - Scales are stored as logs (`logScales`), opacities as logits (`opacityLogits`).
 * - Spherical harmonics are stored coefficient-major with RGB last: sh[n, k, c], k < (degree + 1)², so
 *   sh[n, 0, :] is 3DGS's f_dc and sh[n, 1.., :] its f_rest (transposed from the .ply's channel-major order).
 */

export type ShDegree = 0 | 1 | 2 | 3;

/** Number of SH coefficients per colour channel for a degree. */
export function shCoeffs(degree: number): number {
  return (degree + 1) * (degree + 1);
}

export interface Camera {
  width: number; // pixels
  height: number; // pixels
  fx: number; // pixels
  fy: number; // pixels
  cx: number; // pixels
  cy: number; // pixels
  /** [16] row-major world → camera, OpenCV axes. */
  worldToCamera: ArrayLike<number>;
  near: number; // metres; Gaussians with camera-space z ≤ near are culled
  far: number; // metres; Gaussians with z > far are culled
}

/** A set of 3D Gaussians on the CPU (float32, as stored; the reference promotes them to float64). */
export interface Gaussians {
  count: number;
  /** Degree of the stored SH; rendering may use a lower active degree (RasterSettings.shDegree). */
  shDegree: ShDegree;
  means: Float32Array; // [N,3] world xyz, metres
  logScales: Float32Array; // [N,3] log standard deviations along the Gaussian's local axes, metres
  quats: Float32Array; // [N,4] (w, x, y, z), unnormalised
  opacityLogits: Float32Array; // [N] logit of opacity
  sh: Float32Array; // [N, (shDegree+1)², 3] coefficient-major, RGB last
}

export type BlendMode = 'alpha' | 'wabe';

/**
 * WABE (docs/method.md §4): each contribution is weighted by w_k = exp(−β (1 − T_k)).
 *
 *   not renormalised: C = Σ_k w_k c_k α_k T_k + T_final · background
 *   renormalised:     C = (Σ_k w_k c_k α_k T_k) / (Σ_k w_k α_k T_k) · (1 − T_final) + T_final · background
 *                     (C = T_final · background where the denominator is 0)
 *
 * The renormalised form keeps the pixel's total coverage equal to alpha blending's, so an edited avatar
 * does not darken where many Gaussians overlap. Alpha (1 − T_final), depth and the contributor count are
 * the same in both modes.
 */
export interface WabeOptions {
  beta: number; // the paper's public code: 6
  /** Treat w_k as a constant in the backward pass (the paper's public code). */
  stopGradient: boolean;
  renormalize: boolean;
}

export interface RasterSettings {
  /** Active SH degree (≤ the Gaussians' stored degree); colour = max(0, SH(dir) + 0.5). */
  shDegree: number;
  blend: BlendMode;
  wabe: WabeOptions;
  background: [number, number, number]; // RGB in [0, 1]
  /** Added to the 2D covariance diagonal (px²), the EWA low-pass filter. */
  lowpass: number; // default 0.3
  tileSize: 16;
}

/**
 * WABE's defaults, the only place they are set (the edit and reconstruction configs, the viewer and the CLI
 * read them from here). β = 6 and stop-gradient are the paper's public code. method.md §4 leaves the
 * renormalisation open; we renormalise because the edited avatar is fitted under WABE and an unnormalised
 * WABE image is darker wherever several Gaussians overlap, so the fit brightens every layered surface (the
 * evidence is in docs/editing.md, section WABE).
 */
export const DEFAULT_WABE: Readonly<WabeOptions> = Object.freeze({ beta: 6, stopGradient: true, renormalize: true });

export function rasterSettings(over: Partial<RasterSettings> = {}): RasterSettings {
  return {
    shDegree: 3,
    blend: 'alpha',
    background: [0, 0, 0],
    lowpass: 0.3,
    tileSize: 16,
    ...over,
    wabe: { ...DEFAULT_WABE, ...(over.wabe ?? {}) },
  };
}

/**
 * Stage 1 output, per Gaussian (the same layout from the reference and the kernels, so each stage can be
 * tested on its own). A culled Gaussian has radius 0 and its other fields are unspecified.
 */
export interface Projected {
  count: number;
  means2D: Float32Array | Float64Array; // [N,2] pixels (u, v)
  conics: Float32Array | Float64Array; // [N,3] (a, b, c): inverse 2D covariance [[a, b], [b, c]], 1/px²
  radii: Int32Array; // [N] pixels, ceil(3·sqrt(λ_max)); 0 = culled
  depths: Float32Array | Float64Array; // [N] camera-space z, metres
  colors: Float32Array | Float64Array; // [N,3] RGB after SH evaluation and clamping at 0
  opacities: Float32Array | Float64Array; // [N] sigmoid(logit)
  tilesTouched: Uint32Array; // [N] number of 16×16 tiles the Gaussian's bounding square overlaps
}

/** Stage 3 output: one image. Arrays are row-major over pixels, p = y·W + x. */
export interface RenderOutput {
  width: number;
  height: number;
  color: Float32Array | Float64Array; // [H,W,3] RGB
  /** 1 − T_final: coverage. */
  alpha: Float32Array | Float64Array; // [H,W]
  /** Σ_k z_k α_k T_k (alpha-weighted, not normalised: divide by `alpha` for expected depth). */
  depth: Float32Array | Float64Array; // [H,W] metres
  /** Number of Gaussians blended into each pixel before the early stop. */
  nContrib: Uint32Array; // [H,W]
}

/** Gradients of a scalar loss with respect to the Gaussians' stored parameters. */
export interface GaussianGrads {
  means: Float32Array | Float64Array; // [N,3]
  logScales: Float32Array | Float64Array; // [N,3]
  quats: Float32Array | Float64Array; // [N,4] w.r.t. the unnormalised stored quaternion
  opacityLogits: Float32Array | Float64Array; // [N]
  sh: Float32Array | Float64Array; // [N,K,3] (zero beyond the active degree)
  /** ∂L/∂means2D in pixels (densification uses its norm per Gaussian and view). */
  means2D: Float32Array | Float64Array; // [N,2]
}

/**
 * Gradients of a scalar loss with respect to stage 1's outputs (`Projected`): what the rasterize backward
 * pass produces and the projection backward pass consumes, so each backward stage can be tested on its own.
 * The conic gradient is with respect to (a, b, c) as three scalars, b being the single off-diagonal entry.
 */
export interface ProjectedGrads {
  means2D: Float32Array | Float64Array; // [N,2] ∂L/∂(u, v), 1/px
  conics: Float32Array | Float64Array; // [N,3] (a, b, c)
  colors: Float32Array | Float64Array; // [N,3] RGB (after the clamp at 0)
  opacities: Float32Array | Float64Array; // [N] opacity (after the sigmoid)
}
