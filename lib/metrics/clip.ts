/**
 * CLIP-S and CLIP-C (docs/method.md §6), on a pluggable CLIP embedder:
 *
 *     CLIP-S = cos(E_I(edited) − E_I(original), E_T(edit caption) − E_T(original caption))
 *     CLIP-C = cos(E_I(edited_i) − E_I(original_i), E_I(edited_{i+1}) − E_I(original_{i+1}))
 *
 * E_I and E_T are the CLIP image and text embeddings, L2-normalised before the differences are taken (as in
 * the InstructPix2Pix / Instruct-NeRF2NeRF evaluation code these scores come from; `normalize: false` uses
 * raw embeddings). CLIP-S is averaged over the frames, CLIP-C over consecutive pairs of a sequence (frames of
 * one camera, or neighbouring views). With no embedder the scores are `null` with a note: never a number
 * from a stand-in.
 */
import type { RgbImage } from '../util/image.js';

/** Anything that maps images and texts into one CLIP space. */
export interface Embedder {
  /** Which implementation ('transformers-local', 'hf-endpoint', ...). */
  readonly id: string;
  /** The model name recorded next to the scores (e.g. 'openai/clip-vit-large-patch14'). */
  readonly model: string;
  embedImages(images: RgbImage[]): Promise<Float32Array[]>;
  embedTexts(texts: string[]): Promise<Float32Array[]>;
}

export interface EditPair {
  edited: RgbImage;
  original: RgbImage;
}

export interface Captions {
  /** Caption of the edited subject ("a person with a green face"). */
  edit: string;
  /** Caption of the original ("a person"). */
  original: string;
}

export interface ClipOptions {
  /** L2-normalise each embedding before differencing. Default true. */
  normalize?: boolean;
  /** Images per embedImages call. Default 16. */
  batchSize?: number;
}

/** Cosine similarity in float64; NaN when either vector is zero (no direction). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine: vector lengths differ (${a.length} vs ${b.length})`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}

function unit(v: Float32Array, normalize: boolean): Float64Array {
  const out = Float64Array.from(v);
  if (!normalize) return out;
  let n = 0;
  for (const x of out) n += x * x;
  n = Math.sqrt(n);
  if (n === 0) throw new Error('CLIP: the embedder returned a zero vector');
  for (let i = 0; i < out.length; i++) out[i]! /= n;
  return out;
}

const diff = (a: Float64Array, b: Float64Array) => a.map((x, i) => x - b[i]!);

async function embedAll(embedder: Embedder, images: RgbImage[], batchSize: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < images.length; i += batchSize) {
    const batch = images.slice(i, i + batchSize);
    const e = await embedder.embedImages(batch);
    if (e.length !== batch.length) throw new Error(`CLIP embedder '${embedder.id}' returned ${e.length} image embeddings for ${batch.length} images`);
    out.push(...e);
  }
  return out;
}

async function imageDirections(embedder: Embedder, pairs: EditPair[], opts: ClipOptions): Promise<Float64Array[]> {
  const normalize = opts.normalize ?? true;
  const emb = await embedAll(
    embedder,
    pairs.flatMap((p) => [p.edited, p.original]),
    opts.batchSize ?? 16,
  );
  return pairs.map((_, i) => diff(unit(emb[2 * i]!, normalize), unit(emb[2 * i + 1]!, normalize)));
}

export interface ClipSeries {
  mean: number;
  values: number[]; // per frame (CLIP-S) or per consecutive pair (CLIP-C)
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

/** CLIP-S over frames: each frame's image direction against the caption direction. */
export async function clipDirectionalSimilarity(embedder: Embedder, pairs: EditPair[], captions: Captions, opts: ClipOptions = {}): Promise<ClipSeries> {
  if (pairs.length === 0) throw new Error('CLIP-S: no frames');
  const normalize = opts.normalize ?? true;
  const t = await embedder.embedTexts([captions.edit, captions.original]);
  if (t.length !== 2) throw new Error(`CLIP embedder '${embedder.id}' returned ${t.length} text embeddings for 2 captions`);
  const textDir = diff(unit(t[0]!, normalize), unit(t[1]!, normalize));
  const dirs = await imageDirections(embedder, pairs, opts);
  const values = dirs.map((d) => cosine(d, textDir));
  return { mean: mean(values), values };
}

/** CLIP-C over a sequence: the image direction of each frame against the next frame's. */
export async function clipDirectionConsistency(embedder: Embedder, sequence: EditPair[], opts: ClipOptions = {}): Promise<ClipSeries> {
  if (sequence.length < 2) throw new Error(`CLIP-C: need at least 2 frames, got ${sequence.length}`);
  const dirs = await imageDirections(embedder, sequence, opts);
  const values: number[] = [];
  for (let i = 0; i + 1 < dirs.length; i++) values.push(cosine(dirs[i]!, dirs[i + 1]!));
  return { mean: mean(values), values };
}

/** The CLIP columns of a results row: numbers, or null with the reason. */
export interface ClipScores {
  clipS: number | null;
  clipC: number | null;
  /** Embedder id and model the numbers come from; null when missing. */
  embedder: string | null;
  model: string | null;
  note?: string;
}

export const NO_EMBEDDER_NOTE = 'CLIP not computed: no CLIP embedder configured (see lib/metrics/clip.ts)';

/**
 * CLIP-S over `sequences`' frames and CLIP-C within each sequence (sequences: one per camera, or one per
 * timestep across neighbouring views), both averaged over all their terms.
 */
export async function clipScores(
  embedder: Embedder | null | undefined,
  sequences: EditPair[][],
  captions: Captions,
  opts: ClipOptions = {},
): Promise<ClipScores> {
  if (!embedder) return { clipS: null, clipC: null, embedder: null, model: null, note: NO_EMBEDDER_NOTE };
  const normalize = opts.normalize ?? true;
  const t = await embedder.embedTexts([captions.edit, captions.original]);
  if (t.length !== 2) throw new Error(`CLIP embedder '${embedder.id}' returned ${t.length} text embeddings for 2 captions`);
  const textDir = diff(unit(t[0]!, normalize), unit(t[1]!, normalize));
  const s: number[] = [];
  const c: number[] = [];
  for (const seq of sequences) {
    if (seq.length === 0) continue;
    const dirs = await imageDirections(embedder, seq, opts); // each frame embedded once, for both scores
    for (const d of dirs) s.push(cosine(d, textDir));
    for (let i = 0; i + 1 < dirs.length; i++) c.push(cosine(dirs[i]!, dirs[i + 1]!));
  }
  return {
    clipS: s.length ? mean(s) : null,
    clipC: c.length ? mean(c) : null,
    embedder: embedder.id,
    model: embedder.model,
    ...(c.length ? {} : { note: 'CLIP-C not computed: no sequence had two frames' }),
  };
}
