/**
 * The HTTP protocol between an editor client and an edit endpoint: Hugging Face's image-to-image task as
 * `@huggingface/inference` v4 sends it (read from its `imageToImage`, hf-inference provider helper and
 * `makeRequestOptions`), which our local edit server also speaks.
 *
 *   POST <endpointUrl>        (hosted: https://router.huggingface.co/hf-inference/models/<model id>)
 *   Authorization: Bearer <token>        only when a token is given
 *   Content-Type: application/json
 *   Accept: image/png, image/jpeg        (added by our client)
 *   {
 *     "inputs": "<base64 PNG: the current render>",
 *     "parameters": {
 *       "prompt": "<instruction>",
 *       "guidance_scale": 7.5, "image_guidance_scale": 1.5,   // InstructPix2Pix's names (diffusers)
 *       "strength": 0.85, "seed": 42, "num_inference_steps": 20,
 *       "original_image": "<base64 PNG>",                     // extras: IN2N's conditioning image,
 *       "view": { "subject": "s1", "camera": 3, "timestep": 17 } // and which view it is
 *     }
 *   }
 *   200 → the edited image's bytes, image/png or image/jpeg.
 *   Errors → JSON { "error": "<message>" } (503 while a model loads may add "estimated_time" in seconds);
 *   429 and 503 may carry Retry-After (seconds or an HTTP date).
 *
 * The library sends the image as JSON base64 only when `parameters` is present (otherwise as the raw body),
 * forwards every key of `parameters` untouched (its type has an index signature), and strips `model`,
 * `endpointUrl`, `accessToken` and `provider` from the body. A hosted model ignores or rejects keys it does not
 * know, which is why the extras are optional; a plain InstructPix2Pix deployment reads `inputs` as its image
 * conditioning, so without extras it edits the current render.
 */
import { z } from 'zod';
import { encodePng, type RgbImage } from '../../util/image.js';
import { EDIT_DEFAULTS, editViewSchema, type EditRequest } from './editor.js';
import { decodeImage } from './image-io.js';

export interface EditParameters {
  prompt: string;
  guidance_scale: number;
  image_guidance_scale: number;
  strength: number;
  seed: number;
  num_inference_steps?: number;
  original_image?: string;
  view?: { subject: string; camera: number; timestep: number };
  [key: string]: unknown;
}

export function toBase64Png(img: RgbImage): string {
  return Buffer.from(encodePng(img)).toString('base64');
}

/** The `parameters` object for a request; extras (original image, view) only when asked for. */
export function editParameters(req: EditRequest, opts: { extras: boolean; numInferenceSteps?: number }): EditParameters {
  const p: EditParameters = {
    prompt: req.instruction,
    guidance_scale: req.guidanceScale,
    image_guidance_scale: req.imageGuidanceScale,
    strength: req.strength,
    seed: req.seed,
  };
  if (opts.numInferenceSteps !== undefined) p.num_inference_steps = opts.numInferenceSteps;
  if (opts.extras) {
    p.original_image = toBase64Png(req.original);
    if (req.view) p.view = { subject: req.view.subject, camera: req.view.camera, timestep: req.view.timestep };
  }
  return p;
}

const base64Image = z.string().min(1, 'must be a base64 image');

export const editBodySchema = z.object({
  inputs: base64Image,
  parameters: z
    .object({
      prompt: z.string().min(1, 'the instruction must not be empty'),
      guidance_scale: z.number().finite().nonnegative().default(EDIT_DEFAULTS.guidanceScale),
      image_guidance_scale: z.number().finite().nonnegative().default(EDIT_DEFAULTS.imageGuidanceScale),
      // A plain InstructPix2Pix call denoises from pure noise: strength 1.
      strength: z.number().gt(0).lte(1).default(1),
      seed: z.number().int().min(0).max(0xffffffff).default(0),
      num_inference_steps: z.number().int().positive().optional(),
      original_image: base64Image.optional(),
      view: editViewSchema.optional(),
    })
    .loose(),
});

function decodeBase64Image(s: string, field: string): RgbImage {
  const b64 = s.startsWith('data:') ? s.slice(s.indexOf(',') + 1) : s;
  return decodeImage(Buffer.from(b64, 'base64'), field);
}

/**
 * The EditRequest a JSON body describes; throws an Error naming the field (the server answers 400/422).
 * Without `original_image`, the input is its own conditioning, as in a plain InstructPix2Pix call.
 */
export function parseEditBody(body: unknown): { request: EditRequest; numInferenceSteps?: number } {
  const r = editBodySchema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${i.path.join('.') || 'body'}: ${i.message}`);
  }
  const { inputs, parameters: p } = r.data;
  const image = decodeBase64Image(inputs, 'inputs');
  const original = p.original_image ? decodeBase64Image(p.original_image, 'parameters.original_image') : image;
  if (original.width !== image.width || original.height !== image.height) {
    throw new Error(`parameters.original_image is ${original.width}x${original.height}, inputs ${image.width}x${image.height}`);
  }
  const request: EditRequest = {
    image,
    original,
    instruction: p.prompt,
    seed: p.seed,
    guidanceScale: p.guidance_scale,
    imageGuidanceScale: p.image_guidance_scale,
    strength: p.strength,
  };
  if (p.view) request.view = p.view;
  return p.num_inference_steps === undefined ? { request } : { request, numInferenceSteps: p.num_inference_steps };
}
