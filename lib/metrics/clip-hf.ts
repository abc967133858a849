/**
 * A CLIP embedder behind a Hugging Face feature-extraction endpoint (an Inference Endpoint running a CLIP
 * handler, or any server speaking the same protocol), through @huggingface/inference.
 *
 * The wire contract: POST {"inputs": [...]} to the endpoint; each input is a caption (text) or an image as a
 * `data:image/png;base64,...` URI (override with `imageInput`); the answer is one pooled embedding per input,
 * a number[][] (a number[] is accepted for a single input). Token-level (3-D) answers are refused: CLIP-S needs
 * the projected, pooled embedding.
 */
import { InferenceClient } from '@huggingface/inference';
import { encodePng, type RgbImage } from '../util/image.js';
import type { Embedder } from './clip.js';

export interface HfClipOptions {
  /** Access token (hf_...); may be empty for an open local server. */
  token: string;
  /** Model id, used for routing when no endpointUrl is given, and recorded with the scores. */
  model: string;
  /** A dedicated endpoint's URL; when set, requests go there. */
  endpointUrl?: string;
  /** How an image is sent as an input string; default a PNG data URI. */
  imageInput?: (png: Buffer) => string;
  /** Inputs per request. Default 8. */
  batchSize?: number;
  /** For tests and proxies. */
  fetch?: typeof fetch;
}

function toVectors(res: unknown, n: number, what: string): Float32Array[] {
  const isVec = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
  let list: unknown[];
  if (n === 1 && isVec(res)) list = [res];
  else if (Array.isArray(res)) list = res;
  else throw new Error(`CLIP endpoint: ${what}: expected an array of embeddings, got ${typeof res}`);
  if (list.length !== n) throw new Error(`CLIP endpoint: ${what}: got ${list.length} embeddings for ${n} inputs`);
  return list.map((v, i) => {
    if (!isVec(v)) throw new Error(`CLIP endpoint: ${what}: embedding ${i} is not a flat number array (a token-level answer? CLIP needs pooled embeddings)`);
    return Float32Array.from(v);
  });
}

export function createHfClipEmbedder(opts: HfClipOptions): Embedder {
  const client = new InferenceClient(opts.token || undefined, opts.fetch ? { fetch: opts.fetch } : {});
  const batch = opts.batchSize ?? 8;
  const imageInput = opts.imageInput ?? ((png: Buffer) => `data:image/png;base64,${png.toString('base64')}`);
  async function embed(inputs: string[], what: string): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < inputs.length; i += batch) {
      const chunk = inputs.slice(i, i + batch);
      const args = opts.endpointUrl ? { endpointUrl: opts.endpointUrl, inputs: chunk } : { model: opts.model, inputs: chunk };
      const res = await client.featureExtraction(args);
      out.push(...toVectors(res, chunk.length, what));
    }
    return out;
  }
  return {
    id: 'hf-endpoint',
    model: opts.model,
    embedImages: (images: RgbImage[]) =>
      embed(
        images.map((im) => imageInput(encodePng(im))),
        'images',
      ),
    embedTexts: (texts: string[]) => embed(texts, 'texts'),
  };
}
