/**
 * The 2D image editor that the editing loop (Instruct-NeRF2NeRF's iterative dataset update,
 * docs/method.md §3) calls once per edited view: the current render of the avatar goes in, an edited
 * target for that view comes out.
 *
 * Implementations: `HfImageEditor` (hf.ts, InstructPix2Pix over the Hugging Face inference protocol, hosted
 * or self-hosted, or our local edit server), `OfflineEditor` / `OracleEditor` / `IdentityEditor` (editors/offline.ts), and the
 * content-addressed cache wrapper (cache.ts).
 */
import { z } from 'zod';
import type { RgbImage } from '../../util/image.js';
import type { Rng } from '../../util/random.js';

/** Which training view an edit is for; offline editors look their ground truth up by it. */
export interface EditView {
  subject: string;
  camera: number;
  timestep: number;
}

export interface EditRequest {
  /** The current render of the avatar for this view: the editor denoises from it, so edits compound. */
  image: RgbImage;
  /** The original captured image of the view: InstructPix2Pix's image conditioning in Instruct-NeRF2NeRF. */
  original: RgbImage;
  /** The text instruction, e.g. "turn his teeth gold". */
  instruction: string;
  /** Seeds the editor's noise; the same request with the same seed gives the same edit. */
  seed: number;
  /** Classifier-free text guidance (InstructPix2Pix `guidance_scale`). */
  guidanceScale: number;
  /** Image guidance (InstructPix2Pix `image_guidance_scale`). */
  imageGuidanceScale: number;
  /** Denoise strength in (0, 1]: how far the editor noises the current render before denoising it. */
  strength: number;
  view?: EditView;
}

/** What an editor says about itself for run records and cache keys; no secrets in it. */
export interface EditorDescription {
  /** Short, stable name, e.g. `offline`, `identity`, `hf:timbrooks/instruct-pix2pix`. */
  id: string;
  /** Every setting that changes the output (the cache keys on them). JSON values only. */
  settings: Record<string, unknown>;
}

export interface ImageEditor {
  readonly id: string;
  describe(): EditorDescription;
  /** Returns an image of the same size as `req.image`. */
  edit(req: EditRequest): Promise<RgbImage>;
}

/** Instruct-NeRF2NeRF's InstructPix2Pix settings (method.md §3). */
export const EDIT_DEFAULTS = {
  guidanceScale: 7.5,
  imageGuidanceScale: 1.5,
  /** The loop samples each call's denoise strength uniformly in this range. */
  strengthRange: [0.7, 0.98] as const,
} as const;

/**
 * 2D edits in flight at once (EditOptions.editsInFlight, `gae edit --edits-in-flight`; lib/edit/edit-queue.ts).
 * Answers apply in request order where the loop would have waited, so the value changes wall time, never results.
 * Four keep a remote InstructPix2Pix busy while the avatar trains, without flooding a shared endpoint.
 */
export const EDITS_IN_FLIGHT = 4;

/**
 * The HF editor client's per-attempt timeout and retries (config fields editor.timeoutMs / maxRetries).
 * An InstructPix2Pix edit takes seconds on a GPU; a minute without an answer means a hung endpoint, and
 * a loading model answers 503 with its estimated time, which is waited for separately.
 */
export const HF_CLIENT_DEFAULTS = { timeoutMs: 60_000, maxRetries: 3 } as const;

/** Draws a denoise strength uniformly in `range` (the loop's per-call choice). */
export function sampleStrength(rng: Rng, range: readonly [number, number] = EDIT_DEFAULTS.strengthRange): number {
  return rng.uniform(range[0], range[1]);
}

export const editViewSchema = z.object({
  subject: z.string(),
  camera: z.number().int().nonnegative(),
  timestep: z.number().int().nonnegative(),
});

/** The scalar fields of an EditRequest; `checkEditRequest` holds images and these to it. */
const requestScalars = z.object({
  instruction: z.string().min(1, 'must not be empty'),
  seed: z.number().int().min(0).max(0xffffffff),
  guidanceScale: z.number().finite().nonnegative(),
  imageGuidanceScale: z.number().finite().nonnegative(),
  strength: z.number().gt(0).lte(1),
  view: editViewSchema.optional(),
});

/** Builds a request with the method's defaults for the guidance scales. */
export function editRequest(
  r: Omit<EditRequest, 'guidanceScale' | 'imageGuidanceScale'> & Partial<Pick<EditRequest, 'guidanceScale' | 'imageGuidanceScale'>>,
): EditRequest {
  return {
    guidanceScale: EDIT_DEFAULTS.guidanceScale,
    imageGuidanceScale: EDIT_DEFAULTS.imageGuidanceScale,
    ...r,
  };
}

/**
 * A request the editor cannot serve because of what it asks (malformed, or no edit exists for it): retrying
 * cannot help, so the edit server answers 422 rather than 500.
 */
export class EditInputError extends Error {
  override name = 'EditInputError';
}

function checkImage(img: RgbImage | undefined, field: string, who: string): void {
  if (!img || !(img.data instanceof Float32Array)) throw new EditInputError(`${who}: request.${field} is not an RgbImage`);
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
    throw new EditInputError(`${who}: request.${field} has ${img.data.length} values for ${img.width}x${img.height}x3`);
  }
}

/** Throws an error naming the editor and the field for a malformed request. */
export function checkEditRequest(req: EditRequest, who: string): void {
  checkImage(req.image, 'image', who);
  checkImage(req.original, 'original', who);
  if (req.original.width !== req.image.width || req.original.height !== req.image.height) {
    throw new EditInputError(`${who}: request.original is ${req.original.width}x${req.original.height}, request.image ${req.image.width}x${req.image.height}`);
  }
  const r = requestScalars.safeParse(req);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new EditInputError(`${who}: request.${i.path.join('.')}: ${i.message}`);
  }
}

export function viewName(v: EditView | undefined): string {
  return v ? `${v.subject}/cam${v.camera}/t${v.timestep}` : '<no view>';
}
