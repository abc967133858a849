/**
 * Offline 2D editors: a stand-in for InstructPix2Pix (IP2P) built from ground-truth edits, so the editing loop,
 * WABE and the adversarial loss can be run and measured with no diffusion model and no network
 * (docs/method.md §3; the failure modes are shown with pictures in docs/editing.md).
 *
 * The stand-in follows IP2P's conditioning in Instruct-NeRF2NeRF: the edit is an edit of the *captured* image C
 * (`req.original`, the image guidance), and the current render R (`req.image`) enters only where the edit
 * lands, mixed in by the denoise strength t (IN2N noises the render to level t and denoises it toward the
 * conditioned edit, so a weaker noise keeps more of the render). It is never a function of R alone: an avatar
 * that drifts away from the data is pulled back by every target.
 *
 * Model, per request (all σ are for `inconsistency` s = 1 and scale with s; sizes are fractions of the
 * image's shorter side; C, R, E clamped to [0, 1]):
 *
 *  1. Edit region. M = 1 where the ground-truth edit E of this view differs from the GT original O by more
 *     than `maskThreshold` in some channel. Ĉ = E on M: the captured image with the edit applied.
 *  2. Occlusion. E and O are renders of this view, so the editor edits only what it sees: when M covers at
 *     most `occlusion.visibleFraction` of the image the target is hidden and gets nothing. Then, with
 *     probability s·`occlusion.paintOccluderRate` per call (the request's seed), the editor paints the hidden
 *     target's colour onto its occluder (OCCLUDER_OF: teeth and tongue → lips, eyes → eyelid skin): M = the
 *     occluder's pixels, Ĉ = C + paintStrength·(k·lum(C)/lum(a_o) − C), k the edit's albedo, a_o the
 *     occluder's (the occluder keeps its shading and takes the edit's colour).
 *  3. Structured bias. Per camera (seeded by the editor's seed, the subject, the instruction and the camera)
 *     and per timestep (the same with the timestep): a strength factor κ = (1 + σ_cam·n)(1 + σ_ts·n') ≥ 0
 *     and a colour offset b = σ_cam·n₃ + σ_ts·n₃'; plus a small per-call colour offset (`jitter`, the
 *     request's seed). Ê = clamp(C + κ·(Ĉ − C) + b) on M. A given camera is always off the same way, so
 *     averaging many calls does not remove it.
 *  4. Texture detail. Ê ← clamp(Ê · (1 + s·texture.amplitude·n(p))), n a luminance value-noise pattern
 *     with a node every `texture.cellPixels` pixels, seeded per view (camera × timestep): image-anchored
 *     detail that differs between views, which a per-pixel L1 average over views blurs away.
 *  5. Misplacement of local edits (M covering at most `misplacement.maxAreaFraction` of the head, i.e. of
 *     the pixels not labelled background, and not a painted occluder): the layers M and M·Ê are moved by a per-view rotation θ about M's centroid and a
 *     shift δ (σ `rotation` in radians, σ `shift`; each clamped to 3σ), bilinearly, zeros outside.
 *  6. Composite with the denoise strength a = t (`strengthCoupling`; else 1), m the moved mask:
 *
 *        out = (1 − m)·U + a·(M·Ê)_moved + (1 − a)·m·R,      U = C + renderLeak·(1 − t)·(R − C)
 *
 * Tolerance: outside the reach of the edit (`editReachPixels`) and away from a painted occluder, every pixel
 * is within renderLeak·(1 − t) of the captured image, whatever render is passed in (R is clamped to [0, 1]
 * first; a non-finite render is an error). With s = 0: out = a·E + (1 − a)·R on M, U elsewhere.
 *
 * `OracleEditor` returns the GT edit E exactly (the ceiling: no failure modes, no render); `IdentityEditor`
 * returns the captured image C (no edit: the cost of the editing loop itself).
 */
import { z } from 'zod';
import type { RgbImage } from '../../util/image.js';
import { Rng, lowbias32 } from '../../util/random.js';
import { Region } from '../../head/regions.js';
import { EditInputError, checkEditRequest, viewName, type EditRequest, type EditView, type EditorDescription, type ImageEditor } from './editor.js';

export type Rgb = readonly [number, number, number];

/** What the edit is about beyond one view: needed to paint a hidden target onto its occluder. */
export interface EditTarget {
  /** Region ids (lib/head/regions.ts) whose appearance the edit changes (lib/head/edits.ts `regions`). */
  regions: readonly number[];
  /** The edit's albedo on its target (linear RGB in [0, 1]). */
  colour: Rgb;
  /** The unedited mean albedo by region id, so a painted pixel keeps its shading (image / albedo). */
  albedo: Readonly<Partial<Record<number, Rgb>>>;
}

export interface GroundTruthEdit {
  original: RgbImage; // O: the view rendered with the original texture
  edited: RgbImage; // E: the same view with the edited texture
  labels: Uint8Array; // [H,W] region ids (lib/head/regions.ts)
  target: EditTarget;
}

/** What the offline editors need from the data: the data module implements it on its renderer. */
export interface EditGroundTruth {
  /** Names the data and its edits for records and cache keys; change it whenever the renders change. */
  readonly id: string;
  /** The GT edit of `view` for `instruction`, rendered at the request's size, or null if it has none. */
  lookup(view: EditView, instruction: string): Promise<GroundTruthEdit | null>;
}

/** Which region hides a target region when it is not visible (closed mouth, closed eyes). */
export const OCCLUDER_OF: Readonly<Partial<Record<number, number>>> = {
  [Region.teeth]: Region.lips,
  [Region.tongue]: Region.lips,
  [Region.eyes]: Region.skin,
};

const amp = z.number().nonnegative();
const fraction = z.number().min(0).max(1);

/** Every knob of the stand-in and its default (the one place they live); docs/editing.md shows each. */
export const offlineEditorConfigSchema = z
  .object({
    /** Seeds the structured failures (per camera, per timestep, per view); null: the run's seed (makeEditor), else 0. */
    seed: z.number().int().min(0).max(0xffffffff).nullable().default(null),
    /** Scales every failure mode (σs and the paint rate): 0 = the exact GT edit mixed with the render by t. */
    inconsistency: fraction.default(1),
    /** A pixel is in the edit region when the GT edit changes some channel by more than this. */
    maskThreshold: amp.default(0.5 / 255),
    /** Mix the edit with the render by the denoise strength (IN2N); off: the edit replaces the render on M. */
    strengthCoupling: z.boolean().default(true),
    /** How much of the render survives outside the edit, per unit of (1 − t): IP2P's pull toward C is strong but not total. */
    renderLeak: fraction.default(0.1),
    occlusion: z
      .object({
        /** The target counts as hidden when its visible edit region covers at most this fraction of the image. */
        visibleFraction: fraction.default(0),
        /** Probability per call that a hidden target is painted onto its occluder (gold lips, closed mouth). */
        paintOccluderRate: fraction.default(0.2),
        /** How far the painted occluder moves to the edit's colour. */
        paintStrength: fraction.default(0.8),
      })
      .strict()
      .prefault({}),
    /** Per camera: σ of the edit's strength factor and of its colour offset (per channel). */
    cameraBias: z
      .object({ strength: amp.default(0.25), colour: amp.default(0.06) })
      .strict()
      .prefault({}),
    /** Per timestep: σ of the edit's strength factor and of its colour offset (per channel). */
    timestepBias: z
      .object({ strength: amp.default(0.1), colour: amp.default(0.03) })
      .strict()
      .prefault({}),
    misplacement: z
      .object({
        /** σ of the per-view shift, per axis, as a fraction of the shorter side. */
        shift: amp.default(0.015),
        /** σ of the per-view rotation about the edit's centroid, radians. */
        rotation: amp.default(0.1),
        /** Only edits covering at most this fraction of the head (non-background pixels) are local enough to be misplaced. */
        maxAreaFraction: fraction.default(0.1),
      })
      .strict()
      .prefault({}),
    /** Per-view multiplicative detail on the edit: amplitude (σ of n) and node spacing in pixels. */
    texture: z
      .object({ amplitude: amp.default(0.15), cellPixels: z.number().min(1).default(2) })
      .strict()
      .prefault({}),
    /** Per-call (request seed) colour offset σ: the zero-mean part of IP2P's call-to-call variation. */
    jitter: z
      .object({ colour: amp.default(0.02) })
      .strict()
      .prefault({}),
  })
  .strict();
export type OfflineEditorConfig = z.infer<typeof offlineEditorConfigSchema>;
export type OfflineEditorOptions = z.input<typeof offlineEditorConfigSchema>;

/** Parses options, or throws an error naming `where` and the field. */
export function offlineEditorConfig(options: unknown, where = 'offline editor config'): OfflineEditorConfig {
  const r = offlineEditorConfigSchema.safeParse(options ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${where}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = lowbias32(h ^ s.charCodeAt(i));
  return h >>> 0;
}

/** One independent random stream per purpose, so changing one knob never reshuffles another's draws. */
function stream(...parts: (string | number)[]): Rng {
  return new Rng(hashString(parts.join('|')));
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
const clamp3 = (n: number) => Math.max(-3, Math.min(3, n));
const lum = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** The structured draws of a view: what stays the same however often the view is edited. */
export interface StructuredFactors {
  /** Strength factor κ and colour offset b (RGB) of the camera and of the timestep (before scaling by s). */
  camera: { strength: number; colour: [number, number, number] };
  timestep: { strength: number; colour: [number, number, number] };
  /** Misplacement in units of σ (each in [−3, 3]): shift x, y and rotation. */
  misplacement: { dx: number; dy: number; theta: number };
}

export function structuredFactors(seed: number, view: EditView, instruction: string): StructuredFactors {
  const draw = (r: Rng) => ({ strength: r.normal(), colour: [r.normal(), r.normal(), r.normal()] as [number, number, number] });
  const m = stream(seed, view.subject, instruction, 'misplacement', view.camera, view.timestep);
  return {
    camera: draw(stream(seed, view.subject, instruction, 'camera', view.camera)),
    timestep: draw(stream(seed, view.subject, instruction, 'timestep', view.timestep)),
    misplacement: { dx: clamp3(m.normal()), dy: clamp3(m.normal()), theta: clamp3(m.normal()) },
  };
}

/**
 * How far (pixels) a misplaced edit can land from its GT region, for an edit whose pixels lie within
 * `maskRadius` pixels of its centroid: 3σ shift per axis, a 3σ rotation moves a point at r by at most r·θ, and
 * one pixel for bilinear sampling.
 */
export function editReachPixels(cfg: OfflineEditorConfig, width: number, height: number, maskRadius: number): number {
  const s = cfg.inconsistency;
  return Math.SQRT2 * 3 * s * cfg.misplacement.shift * Math.min(width, height) + 3 * s * cfg.misplacement.rotation * maskRadius + 1;
}

/**
 * A luminance value-noise pattern with N(0,1) nodes every `cell` pixels, bilinearly interpolated. All nodes
 * are drawn (so the stream does not depend on where the pattern is read); `at(x, y)` interpolates one pixel,
 * so a caller pays only for the pixels it needs.
 */
function textureField(rng: Rng, width: number, height: number, cell: number): { at(x: number, y: number): number } {
  const nx = Math.ceil(width / cell) + 2;
  const ny = Math.ceil(height / cell) + 2;
  const nodes = new Float64Array(nx * ny);
  for (let i = 0; i < nodes.length; i++) nodes[i] = rng.normal();
  return {
    at(x: number, y: number): number {
      const gx = x / cell;
      const gy = y / cell;
      const x0 = Math.floor(gx);
      const y0 = Math.floor(gy);
      const wx = gx - x0;
      const wy = gy - y0;
      const i00 = y0 * nx + x0;
      const i01 = i00 + nx;
      return (1 - wy) * ((1 - wx) * nodes[i00]! + wx * nodes[i00 + 1]!) + wy * ((1 - wx) * nodes[i01]! + wx * nodes[i01 + 1]!);
    },
  };
}

/**
 * Bilinear sample of a [H,W,4] layer at (x, y) (pixel centres at integers), zeros outside the image. Taps
 * with weight 0 are skipped, as are taps outside the image; the four taps add in a fixed order.
 */
function sampleZero(layer: Float64Array, width: number, height: number, x: number, y: number, out: Float64Array): void {
  out[0] = out[1] = out[2] = out[3] = 0;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const wx = x - x0;
  const wy = y - y0;
  for (let t = 0; t < 4; t++) {
    const tx = t & 1 ? x0 + 1 : x0;
    const ty = t & 2 ? y0 + 1 : y0;
    const w = (t & 1 ? wx : 1 - wx) * (t & 2 ? wy : 1 - wy);
    if (w === 0 || tx < 0 || ty < 0 || tx >= width || ty >= height) continue;
    const base = (ty * width + tx) * 4;
    out[0] += w * layer[base]!;
    out[1] += w * layer[base + 1]!;
    out[2] += w * layer[base + 2]!;
    out[3] += w * layer[base + 3]!;
  }
}

/*
 * Whole-image passes as small functions of their own: V8 optimises a small hot function after a few calls
 * and keeps it, where loops inside one long function wait for on-stack replacement on every call.
 */
function clampedCopy(src: ArrayLike<number>): Float64Array {
  const out = new Float64Array(src.length);
  for (let i = 0; i < out.length; i++) {
    const v = src[i]!;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return out;
}

/** Pixels where `e` differs from `o` by more than `threshold` in some channel. */
function changedPixels(e: Float32Array, o: Float32Array, n: number, threshold: number): { mask: Uint8Array; visible: number } {
  const mask = new Uint8Array(n);
  let visible = 0;
  for (let p = 0; p < n; p++) {
    const d = Math.max(Math.abs(e[3 * p]! - o[3 * p]!), Math.abs(e[3 * p + 1]! - o[3 * p + 1]!), Math.abs(e[3 * p + 2]! - o[3 * p + 2]!));
    if (d > threshold) {
      mask[p] = 1;
      visible++;
    }
  }
  return { mask, visible };
}

function countOf(a: Uint8Array, v: number): number {
  let n = 0;
  for (let p = 0; p < a.length; p++) if (a[p] === v) n++;
  return n;
}

/** C + leak·(R − C), in float32 as the editor returns it. */
function leakMix(c: Float32Array, r: Float64Array, leak: number): Float32Array {
  const out = new Float32Array(c.length);
  for (let i = 0; i < out.length; i++) out[i] = c[i]! + leak * (r[i]! - c[i]!);
  return out;
}

/** What a call did, beside its image (figures and tests). */
export interface OfflineEditTrace {
  /** GT edit pixels in this view (before occlusion). */
  visiblePixels: number;
  hidden: boolean;
  /** The occluder region painted with the hidden target's colour, or null. */
  paintedOccluder: number | null;
  /** Whether the edit was moved (a local edit with misplacement on). */
  misplaced: boolean;
}

/** The model of the module header, as a pure function of the request, the GT and the config. */
export function offlineEdit(req: EditRequest, gt: GroundTruthEdit, cfg: OfflineEditorConfig, trace?: OfflineEditTrace): RgbImage {
  if (!req.view) throw new EditInputError('offline editor: request.view is required (the ground truth is looked up by view)');
  const view = req.view;
  const { width: W, height: H } = req.image;
  const N = W * H;
  const s = cfg.inconsistency;
  const t = req.strength;
  const seed = cfg.seed ?? 0;
  const C = req.original.data;
  const O = gt.original.data;
  const E = gt.edited.data;
  const side = Math.min(W, H);
  const R = clampedCopy(req.image.data);

  const f = structuredFactors(seed, view, req.instruction);
  const call = stream(req.seed, view.subject, view.camera, view.timestep, req.instruction, 'call');
  const paintDraw = call.next();
  const jitter = [call.normal(), call.normal(), call.normal()];

  // 1. edit region and the edited captured image Ĉ on it.
  const changed = changedPixels(E, O, N, cfg.maskThreshold);
  let mask = changed.mask;
  const visible = changed.visible;
  const hat = clampedCopy(E);

  // 2. occlusion: a hidden target gets nothing, or (at the configured rate) its occluder gets the paint.
  const hidden = visible <= cfg.occlusion.visibleFraction * N;
  let painted: number | null = null;
  if (hidden) {
    mask = new Uint8Array(N);
    if (paintDraw < s * cfg.occlusion.paintOccluderRate) {
      const occluders = gt.target.regions.map((r) => OCCLUDER_OF[r]).filter((r): r is number => r !== undefined);
      const occ = occluders.find((o) => gt.labels.includes(o));
      if (occ !== undefined) {
        painted = occ;
        let meanLum = 0;
        let n = 0;
        for (let p = 0; p < N; p++) {
          if (gt.labels[p] !== occ) continue;
          mask[p] = 1;
          meanLum += lum(C[3 * p]!, C[3 * p + 1]!, C[3 * p + 2]!);
          n++;
        }
        const a = gt.target.albedo[occ];
        const ref = a ? lum(a[0], a[1], a[2]) : meanLum / n;
        const k = gt.target.colour;
        const w = cfg.occlusion.paintStrength;
        for (let p = 0; p < N; p++) {
          if (!mask[p]) continue;
          const shade = lum(C[3 * p]!, C[3 * p + 1]!, C[3 * p + 2]!) / Math.max(ref, 1e-6);
          for (let c = 0; c < 3; c++) hat[3 * p + c] = clamp01(C[3 * p + c]! + w * (k[c]! * shade - C[3 * p + c]!));
        }
      }
    }
  }
  const area = countOf(mask, 1);
  const head = N - countOf(gt.labels, Region.background);
  if (trace) Object.assign(trace, { visiblePixels: visible, hidden, paintedOccluder: painted, misplaced: false });

  const leak = cfg.renderLeak * (1 - t);
  const out = leakMix(C, R, leak);
  if (area === 0) return { width: W, height: H, data: out };

  // 3. structured bias and per-call jitter, 4. per-view texture detail: the layer [M, M·Ê].
  const kappa = Math.max(0, (1 + s * cfg.cameraBias.strength * f.camera.strength) * (1 + s * cfg.timestepBias.strength * f.timestep.strength));
  const offset = [0, 1, 2].map(
    (c) => s * (cfg.cameraBias.colour * f.camera.colour[c]! + cfg.timestepBias.colour * f.timestep.colour[c]! + cfg.jitter.colour * jitter[c]!),
  );
  const texAmp = s * cfg.texture.amplitude;
  const tex =
    texAmp > 0 ? textureField(stream(seed, view.subject, req.instruction, 'texture', view.camera, view.timestep), W, H, cfg.texture.cellPixels) : null;
  const layer = new Float64Array(N * 4);
  let cx = 0;
  let cy = 0;
  // The mask's bounding box: the moved layer is zero wherever every bilinear tap falls outside it.
  let minX = W,
    maxX = -1,
    minY = H,
    maxY = -1;
  for (let p = 0; p < N; p++) {
    if (!mask[p]) continue;
    layer[4 * p] = 1;
    const px = p % W;
    const py = Math.floor(p / W);
    cx += px;
    cy += py;
    if (px < minX) minX = px;
    if (px > maxX) maxX = px;
    if (py < minY) minY = py;
    if (py > maxY) maxY = py;
    const detail = tex ? 1 + texAmp * tex.at(px, py) : 1;
    for (let c = 0; c < 3; c++) {
      const base = C[3 * p + c]!;
      layer[4 * p + 1 + c] = clamp01(clamp01(base + kappa * (hat[3 * p + c]! - base) + offset[c]!) * detail);
    }
  }
  cx /= area;
  cy /= area;

  // 5. misplacement of local edits, 6. composite with the denoise strength.
  const mp = cfg.misplacement;
  // Paint on an occluder follows the occluder's pixels: it is already the failure of that call.
  const move = s > 0 && painted === null && area <= mp.maxAreaFraction * head && (mp.shift > 0 || mp.rotation > 0);
  const dx = move ? s * mp.shift * side * f.misplacement.dx : 0;
  const dy = move ? s * mp.shift * side * f.misplacement.dy : 0;
  const theta = move ? s * mp.rotation * f.misplacement.theta : 0;
  if (trace) trace.misplaced = move && (dx !== 0 || dy !== 0 || theta !== 0);
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const a = cfg.strengthCoupling ? t : 1;
  const px = new Float64Array(4);
  for (let y = move ? 0 : minY; y <= (move ? H - 1 : maxY); y++) {
    for (let x = move ? 0 : minX; x <= (move ? W - 1 : maxX); x++) {
      const p = y * W + x;
      if (move) {
        // The source of output pixel p: undo the shift, then the rotation about the centroid.
        const ux = x - dx - cx;
        const uy = y - dy - cy;
        const sx = cx + cos * ux + sin * uy;
        const sy = cy - sin * ux + cos * uy;
        const fx = Math.floor(sx);
        const fy = Math.floor(sy);
        if (fx + 1 < minX || fx > maxX || fy + 1 < minY || fy > maxY) continue;
        sampleZero(layer, W, H, sx, sy, px);
      } else {
        if (!mask[p]) continue;
        for (let k = 0; k < 4; k++) px[k] = layer[4 * p + k]!;
      }
      const m = px[0]!;
      if (m === 0) continue;
      for (let c = 0; c < 3; c++) out[3 * p + c] = (1 - m) * out[3 * p + c]! + a * px[1 + c]! + (1 - a) * m * R[3 * p + c]!;
    }
  }
  return { width: W, height: H, data: out };
}

/** Looks the GT edit of a request up and checks it against the request; errors name the editor and the view. */
async function groundTruthOf(who: string, groundTruth: EditGroundTruth, req: EditRequest): Promise<GroundTruthEdit> {
  checkEditRequest(req, who);
  if (!req.view) throw new EditInputError(`${who}: request.view is required (the ground truth is looked up by view)`);
  const gt = await groundTruth.lookup(req.view, req.instruction);
  if (!gt) throw new EditInputError(`${who}: ground truth '${groundTruth.id}' has no edit for ${viewName(req.view)} and instruction "${req.instruction}"`);
  const { width: W, height: H } = req.image;
  for (const [name, img] of [
    ['original', gt.original],
    ['edited', gt.edited],
  ] as const) {
    if (img.width !== W || img.height !== H || img.data.length !== W * H * 3) {
      throw new Error(`${who}: ground truth ${name} for ${viewName(req.view)} is ${img.width}x${img.height}, the request ${W}x${H}`);
    }
  }
  if (gt.labels.length !== W * H) throw new Error(`${who}: ground truth labels for ${viewName(req.view)} have ${gt.labels.length} entries, not ${W}x${H}`);
  return gt;
}

export class OfflineEditor implements ImageEditor {
  readonly id = 'offline';
  readonly config: OfflineEditorConfig;
  constructor(
    readonly groundTruth: EditGroundTruth,
    options: OfflineEditorOptions = {},
  ) {
    this.config = offlineEditorConfig(options);
  }

  /** Every knob (the cache keys on it), the seed resolved, and the model's version. */
  describe(): EditorDescription {
    return { id: this.id, settings: { model: 'ip2p-conditioned-v2', ...this.config, seed: this.config.seed ?? 0, groundTruth: this.groundTruth.id } };
  }

  async edit(req: EditRequest, trace?: OfflineEditTrace): Promise<RgbImage> {
    const gt = await groundTruthOf('offline editor', this.groundTruth, req);
    for (let i = 0; i < req.image.data.length; i++) {
      if (!Number.isFinite(req.image.data[i]!))
        throw new EditInputError(`offline editor: request.image has a non-finite value at index ${i} (${req.image.data[i]})`);
    }
    return offlineEdit(req, gt, this.config, trace);
  }
}

/** The exact GT edit of the view (the ceiling: no failure mode, and the render plays no part). */
export class OracleEditor implements ImageEditor {
  readonly id = 'oracle';
  constructor(readonly groundTruth: EditGroundTruth) {}
  describe(): EditorDescription {
    return { id: this.id, settings: { groundTruth: this.groundTruth.id } };
  }
  async edit(req: EditRequest): Promise<RgbImage> {
    const gt = await groundTruthOf('oracle editor', this.groundTruth, req);
    return { width: gt.edited.width, height: gt.edited.height, data: gt.edited.data.slice() };
  }
}

/** Returns the captured image: no edit, so a run measures what the loop and its blending cost by themselves. */
export class IdentityEditor implements ImageEditor {
  readonly id = 'identity';
  describe(): EditorDescription {
    return { id: this.id, settings: { returns: 'captured' } };
  }
  async edit(req: EditRequest): Promise<RgbImage> {
    checkEditRequest(req, 'identity editor');
    return { width: req.original.width, height: req.original.height, data: req.original.data.slice() };
  }
}
