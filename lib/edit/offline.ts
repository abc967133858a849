/**
 * Offline editors: a stand-in for InstructPix2Pix built from ground-truth edits, so the editing loop, WABE and
 * the adversarial loss can be run and measured with no diffusion model and no network.
 *
 * The synthetic data can render, for any view, the original image O, the ground-truth edited image E (the
 * head re-rendered with the edited texture) and per-pixel region labels L. A real 2D editor gives an edit
 * that is right in spirit but differs from view to view and call to call; `OfflineEditor` reproduces that
 * from (O, E, L) with the degradation model below, whose every term is scaled by one `inconsistency` s in
 * [0, 1], and whose randomness is seeded by the request's seed (and its view and instruction), so the same
 * request always gives the same image.
 *
 * Degradation model, per request (R = req.image, the current render; t = req.strength; all sizes are
 * fractions of the image's shorter side, all σ are for s = 1):
 *
 *  1. Edit mask. M = 1 where the GT edit changed the original (max over channels |E − O| > maskThreshold),
 *     else 0. Only what is visible in this view can be in M (E and O are renders of this view), so a region
 *     hidden here (teeth behind closed lips) gets nothing, exactly as a 2D editor cannot edit what it does
 *     not see.
 *  2. Colour jitter. E' = clamp(E · g · (1 + s·texture·n(p)) + s·o, 0, 1) on M, with per-call per-channel
 *     gain g = 1 + s·colourGain·N(0,1), offset o = colourOffset·N(0,1), and n(p) a smooth per-channel noise
 *     field (bilinear value noise on a grid of `textureCells` cells across the shorter side, N(0,1) nodes).
 *  3. Bleed. Around the edit, the edit's mean colour μ = mean of E' over M tints the neighbouring visible
 *     regions: weight b(p) = s·bleedStrength·exp(−d(p)/ρ), with d the chamfer (1, √2) distance to M in pixels and
 *     ρ = bleedRadius, cut off at d > 3ρ, and only on foreground labels unless `bleedOntoBackground`
 *     ("turn his teeth gold" tints the lips a little).
 *  4. Misalignment. The edit layers (M, M·E', b) are resampled, bilinearly with zeros outside the image, at
 *     p − δ(p): δ = s·(global shift, σ = `shift`) + s·(smooth warp on a `warpCells` grid, σ = `warp`).
 *     Labels are not moved: the bleed lands where the labels of the current view allow it.
 *  5. Partial strength. The edit moves the render only part of the way: a = 1 − s·(1 − t) if
 *     `strengthCoupling`, else 1. The result starts from the current render, as InstructPix2Pix denoising
 *     from it does, so calls compound as the avatar changes:
 *
 *        out = (1 − a·M_w − a·B_w) · R + a · (M·E')_w + a · B_w · μ,    B_w = (1 − M_w) · b_w · [L allows]
 *
 * With s = 0 every term vanishes and out = M·E + (1 − M)·R exactly: the GT edit composited onto the render's
 * unedited content. `IdentityEditor` returns the render unchanged (sanity runs).
 */
import { z } from 'zod';
import type { RgbImage } from '../util/image.js';
import { Rng, lowbias32 } from '../util/random.js';
import { Region } from '../head/regions.js';
import { EditInputError, checkEditRequest, viewName, type EditRequest, type EditView, type EditorDescription, type ImageEditor } from './editors/editor.js';

export interface GroundTruthEdit {
  original: RgbImage;
  edited: RgbImage;
  labels: Uint8Array; // [H,W] region ids (lib/data/regions.ts)
}

/** What the offline editor needs from the data: the data module implements it on its renderer. */
export interface EditGroundTruth {
  /** Names the data and its edits for records and cache keys; change it whenever the renders change. */
  readonly id: string;
  /** The GT edit of `view` for `instruction`, rendered at the request's size, or null if it has none. */
  lookup(view: EditView, instruction: string): Promise<GroundTruthEdit | null>;
}

export const offlineEditorConfigSchema = z.object({
  /** Scales every degradation: 0 = the exact GT edit, 1 = strong. */
  inconsistency: z.number().min(0).max(1).default(0.5),
  /** A pixel is edited when the GT edit changes some channel by more than this. */
  maskThreshold: z.number().nonnegative().default(0.5 / 255),
  colourGain: z.number().nonnegative().default(0.12),
  colourOffset: z.number().nonnegative().default(0.04),
  texture: z.number().nonnegative().default(0.08),
  textureCells: z.number().int().positive().default(4),
  shift: z.number().nonnegative().default(0.01),
  warp: z.number().nonnegative().default(0.005),
  warpCells: z.number().int().positive().default(3),
  bleedRadius: z.number().positive().default(0.04),
  bleedStrength: z.number().min(0).max(1).default(0.3),
  bleedOntoBackground: z.boolean().default(false),
  strengthCoupling: z.boolean().default(true),
});
export type OfflineEditorConfig = z.infer<typeof offlineEditorConfigSchema>;
export type OfflineEditorOptions = z.input<typeof offlineEditorConfigSchema>;

function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = lowbias32(h ^ s.charCodeAt(i));
  return h >>> 0;
}

/** A smooth field: N(0,1) values on a (cells+1)² grid over the shorter side, bilinearly interpolated. */
class ValueNoise {
  private readonly nx: number;
  private readonly ny: number;
  private readonly nodes: Float64Array; // [ny,nx,channels]
  private readonly cell: number; // pixels per cell
  constructor(
    rng: Rng,
    width: number,
    height: number,
    cells: number,
    private readonly channels: number,
  ) {
    this.cell = Math.min(width, height) / cells;
    this.nx = Math.ceil(width / this.cell) + 1;
    this.ny = Math.ceil(height / this.cell) + 1;
    this.nodes = new Float64Array(this.nx * this.ny * channels);
    for (let i = 0; i < this.nodes.length; i++) this.nodes[i] = rng.normal();
  }
  /** Value at the pixel centre (x, y) for channel c. */
  at(x: number, y: number, c: number): number {
    const gx = (x + 0.5) / this.cell;
    const gy = (y + 0.5) / this.cell;
    const x0 = Math.min(Math.floor(gx), this.nx - 2);
    const y0 = Math.min(Math.floor(gy), this.ny - 2);
    const wx = gx - x0;
    const wy = gy - y0;
    const n = (i: number, j: number) => this.nodes[(j * this.nx + i) * this.channels + c]!;
    return (1 - wy) * ((1 - wx) * n(x0, y0) + wx * n(x0 + 1, y0)) + wy * ((1 - wx) * n(x0, y0 + 1) + wx * n(x0 + 1, y0 + 1));
  }
}

/** Chamfer (1, √2) distance in pixels from every pixel to the nearest pixel with mask = 1 (Infinity if none). */
export function chamferDistance(mask: Uint8Array, width: number, height: number): Float64Array {
  const d = new Float64Array(width * height).fill(Infinity);
  for (let p = 0; p < d.length; p++) if (mask[p]) d[p] = 0;
  const a = 1;
  const b = Math.SQRT2;
  const relax = (p: number, x: number, y: number, dx: number, dy: number, w: number) => {
    const qx = x + dx;
    const qy = y + dy;
    if (qx < 0 || qy < 0 || qx >= width || qy >= height) return;
    const v = d[qy * width + qx]! + w;
    if (v < d[p]!) d[p] = v;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      relax(p, x, y, -1, 0, a);
      relax(p, x, y, 0, -1, a);
      relax(p, x, y, -1, -1, b);
      relax(p, x, y, 1, -1, b);
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const p = y * width + x;
      relax(p, x, y, 1, 0, a);
      relax(p, x, y, 0, 1, a);
      relax(p, x, y, 1, 1, b);
      relax(p, x, y, -1, 1, b);
    }
  }
  return d;
}

/** Samples a [H,W,C] float64 layer at (x, y) in pixel coordinates (pixel centres at integers), zeros outside. */
function sampleZero(layer: Float64Array, width: number, height: number, channels: number, x: number, y: number, out: Float64Array): void {
  out.fill(0);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const wx = x - x0;
  const wy = y - y0;
  const taps: [number, number, number][] = [
    [x0, y0, (1 - wx) * (1 - wy)],
    [x0 + 1, y0, wx * (1 - wy)],
    [x0, y0 + 1, (1 - wx) * wy],
    [x0 + 1, y0 + 1, wx * wy],
  ];
  for (const [tx, ty, w] of taps) {
    if (w === 0 || tx < 0 || ty < 0 || tx >= width || ty >= height) continue;
    const base = (ty * width + tx) * channels;
    for (let c = 0; c < channels; c++) out[c]! += w * layer[base + c]!;
  }
}

export class OfflineEditor implements ImageEditor {
  readonly id = 'offline';
  readonly config: OfflineEditorConfig;
  constructor(
    readonly groundTruth: EditGroundTruth,
    options: OfflineEditorOptions = {},
  ) {
    const r = offlineEditorConfigSchema.safeParse(options);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new Error(`offline editor config: ${i.path.join('.')}: ${i.message}`);
    }
    this.config = r.data;
  }

  describe(): EditorDescription {
    return { id: this.id, settings: { ...this.config, groundTruth: this.groundTruth.id } };
  }

  async edit(req: EditRequest): Promise<RgbImage> {
    checkEditRequest(req, 'offline editor');
    if (!req.view) throw new EditInputError('offline editor: request.view is required (the ground truth is looked up by view)');
    const gt = await this.groundTruth.lookup(req.view, req.instruction);
    if (!gt) throw new EditInputError(`offline editor: ground truth '${this.groundTruth.id}' has no edit for ${viewName(req.view)} and instruction "${req.instruction}"`);
    const { width: W, height: H } = req.image;
    for (const [name, img] of [['original', gt.original], ['edited', gt.edited]] as const) {
      if (img.width !== W || img.height !== H || img.data.length !== W * H * 3) {
        throw new Error(`offline editor: ground truth ${name} for ${viewName(req.view)} is ${img.width}x${img.height}, the request ${W}x${H}`);
      }
    }
    if (gt.labels.length !== W * H) throw new Error(`offline editor: ground truth labels for ${viewName(req.view)} have ${gt.labels.length} entries, not ${W}x${H}`);
    return degradeEdit(req, gt, this.config);
  }
}

/** The degradation model of the module header, as a pure function of the request, the GT and the config. */
export function degradeEdit(req: EditRequest, gt: GroundTruthEdit, cfg: OfflineEditorConfig): RgbImage {
  const { width: W, height: H } = req.image;
  const N = W * H;
  const s = cfg.inconsistency;
  const R = req.image.data;
  const O = gt.original.data;
  const E = gt.edited.data;
  const side = Math.min(W, H);

  // Every random number is drawn whatever s is, in a fixed order, so a request's noise depends only on its seed.
  const view = req.view ? `${req.view.subject}|${req.view.camera}|${req.view.timestep}` : '';
  const rng = new Rng(lowbias32(req.seed ^ hashString(view, hashString(req.instruction))));
  const gain = [0, 1, 2].map(() => 1 + s * cfg.colourGain * rng.normal());
  const offset = [0, 1, 2].map(() => s * cfg.colourOffset * rng.normal());
  const shift = [rng.normal() * cfg.shift * side * s, rng.normal() * cfg.shift * side * s];
  const warpField = new ValueNoise(rng, W, H, cfg.warpCells, 2);
  const texture = new ValueNoise(rng, W, H, cfg.textureCells, 3);

  // 1. edit mask
  const mask = new Uint8Array(N);
  let edited = 0;
  for (let p = 0; p < N; p++) {
    const dmax = Math.max(Math.abs(E[3 * p]! - O[3 * p]!), Math.abs(E[3 * p + 1]! - O[3 * p + 1]!), Math.abs(E[3 * p + 2]! - O[3 * p + 2]!));
    if (dmax > cfg.maskThreshold) {
      mask[p] = 1;
      edited++;
    }
  }
  if (edited === 0) return { width: W, height: H, data: R.slice() };

  // Layer [H,W,5]: M, M·E' (3), b; 2. colour jitter, 3. bleed weights.
  const layer = new Float64Array(N * 5);
  const mu = [0, 0, 0];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (!mask[p]) continue;
      layer[5 * p] = 1;
      for (let c = 0; c < 3; c++) {
        const t = s === 0 ? 1 : 1 + s * cfg.texture * texture.at(x, y, c);
        const v = Math.min(1, Math.max(0, E[3 * p + c]! * gain[c]! * t + offset[c]!));
        layer[5 * p + 1 + c] = v;
        mu[c]! += v;
      }
    }
  }
  for (let c = 0; c < 3; c++) mu[c]! /= edited;
  const rho = cfg.bleedRadius * side;
  if (s > 0 && cfg.bleedStrength > 0) {
    const dist = chamferDistance(mask, W, H);
    for (let p = 0; p < N; p++) {
      const d = dist[p]!;
      if (d > 0 && d <= 3 * rho) layer[5 * p + 4] = s * cfg.bleedStrength * Math.exp(-d / rho);
    }
  }

  // 4. misalignment, 5. partial strength, composite.
  const a = cfg.strengthCoupling ? 1 - s * (1 - req.strength) : 1;
  const out = new Float32Array(N * 3);
  const px = new Float64Array(5);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const dx = s === 0 ? 0 : shift[0]! + s * cfg.warp * side * warpField.at(x, y, 0);
      const dy = s === 0 ? 0 : shift[1]! + s * cfg.warp * side * warpField.at(x, y, 1);
      if (dx === 0 && dy === 0) for (let k = 0; k < 5; k++) px[k] = layer[5 * p + k]!;
      else sampleZero(layer, W, H, 5, x - dx, y - dy, px);
      const mw = px[0]!;
      const allowed = cfg.bleedOntoBackground || gt.labels[p] !== Region.background;
      const bw = allowed ? (1 - mw) * px[4]! : 0;
      const keep = 1 - a * mw - a * bw;
      for (let c = 0; c < 3; c++) {
        out[3 * p + c] = keep * R[3 * p + c]! + a * px[1 + c]! + a * bw * mu[c]!;
      }
    }
  }
  return { width: W, height: H, data: out };
}

/** Returns the render unchanged: the loop then just keeps fitting the current avatar (sanity runs). */
export class IdentityEditor implements ImageEditor {
  readonly id = 'identity';
  describe(): EditorDescription {
    return { id: this.id, settings: {} };
  }
  async edit(req: EditRequest): Promise<RgbImage> {
    checkEditRequest(req, 'identity editor');
    return { width: req.image.width, height: req.image.height, data: req.image.data.slice() };
  }
}
