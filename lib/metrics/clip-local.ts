/**
 * A local CLIP embedder on @huggingface/transformers (ONNX Runtime on the CPU), loading only from a directory
 * the user supplies: remote models are switched off, nothing is downloaded.
 *
 * The directory has the transformers.js layout of a CLIP export (e.g. an ONNX export of
 * openai/clip-vit-large-patch14, the paper's ViT-L/14; any CLIP works and its name is recorded):
 *     config.json  preprocessor_config.json  tokenizer.json  tokenizer_config.json
 *     onnx/vision_model<suffix>.onnx  onnx/text_model<suffix>.onnx
 * where <suffix> follows the dtype ('' for fp32, '_fp16', '_quantized' for q8, ...).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { RgbImage } from '../util/image.js';
import type { Embedder } from './clip.js';

export const DEFAULT_CLIP_MODEL_DIR = 'data/models/clip-vit-large-patch14';

export interface LocalClipOptions {
  /** Model directory (absolute, or relative to the working directory). */
  modelDir: string;
  /** Name recorded with the scores; default: config.json's `_name_or_path`, else the directory name. */
  model?: string;
  /** ONNX weights variant. Default 'fp32'. */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';
}

const SUFFIX: Record<NonNullable<LocalClipOptions['dtype']>, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4' };

/** Checks the directory before loading anything, so a wrong path fails with the file it lacks. */
export function checkClipModelDir(modelDir: string, dtype: LocalClipOptions['dtype'] = 'fp32'): void {
  const dir = path.resolve(modelDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`CLIP model directory ${dir} does not exist (give a local CLIP export; remote models are disabled)`);
  }
  const need = ['config.json', 'preprocessor_config.json', 'tokenizer.json', `onnx/vision_model${SUFFIX[dtype]}.onnx`, `onnx/text_model${SUFFIX[dtype]}.onnx`];
  const missing = need.filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length) throw new Error(`CLIP model directory ${dir} lacks ${missing.join(', ')} (dtype ${dtype})`);
  const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { model_type?: string };
  if (cfg.model_type !== 'clip') throw new Error(`${path.join(dir, 'config.json')}: model_type is '${cfg.model_type}', expected 'clip'`);
}

function toUint8(img: RgbImage): Uint8ClampedArray {
  const out = new Uint8ClampedArray(img.width * img.height * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(img.data[i]! * 255); // clamps
  return out;
}

function rows(t: { dims: number[]; data: ArrayLike<number> }, what: string): Float32Array[] {
  if (t.dims.length !== 2) throw new Error(`CLIP ${what}: expected [batch, dim] embeddings, got dims [${t.dims.join(', ')}]`);
  const [b, d] = t.dims as [number, number];
  const data = Float32Array.from(t.data);
  return Array.from({ length: b }, (_, i) => data.slice(i * d, (i + 1) * d));
}

export async function createLocalClipEmbedder(opts: LocalClipOptions): Promise<Embedder> {
  const dtype = opts.dtype ?? 'fp32';
  checkClipModelDir(opts.modelDir, dtype);
  const dir = path.resolve(opts.modelDir);
  const hf = await import('@huggingface/transformers');
  hf.env.allowRemoteModels = false;
  hf.env.allowLocalModels = true;
  hf.env.useFSCache = false;
  hf.env.localModelPath = path.dirname(dir) + path.sep;
  const id = path.basename(dir);
  const [processor, tokenizer, vision, text] = await Promise.all([
    hf.AutoProcessor.from_pretrained(id),
    hf.AutoTokenizer.from_pretrained(id),
    hf.CLIPVisionModelWithProjection.from_pretrained(id, { dtype, device: 'cpu' }),
    hf.CLIPTextModelWithProjection.from_pretrained(id, { dtype, device: 'cpu' }),
  ]);
  const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { _name_or_path?: string };
  const model = opts.model ?? (cfg._name_or_path || id);
  return {
    id: 'transformers-local',
    model,
    async embedImages(images) {
      if (images.length === 0) return [];
      const raw = images.map((im) => new hf.RawImage(toUint8(im), im.width, im.height, 3));
      const inputs = await processor(raw);
      const out = await vision(inputs);
      return rows(out.image_embeds, 'image_embeds');
    },
    async embedTexts(texts) {
      if (texts.length === 0) return [];
      const inputs = tokenizer(texts, { padding: true, truncation: true });
      const out = await text(inputs);
      return rows(out.text_embeds, 'text_embeds');
    },
  };
}
