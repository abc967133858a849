/**
 * Writes a tiny CLIP model directory in the transformers.js layout, generated here (ONNX protobuf encoded by
 * hand) so the local embedder's real loading and inference path can be tested offline with known outputs:
 *   vision: image_embeds = mean over pixels of the normalised pixel_values [B,3,H,W], times W_IMG [3,4]
 *   text:   text_embeds  = Σ over unmasked tokens of EMBED[token] [V,4]
 * Tokens are single characters (a BPE with no merges); padding masks out the pad token.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

// --- a minimal protobuf writer -------------------------------------------------------------------------
type Field = [number, 'varint', number] | [number, 'bytes', Uint8Array | string] | [number, 'msg', Field[]];

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

function encode(fields: Field[]): Uint8Array {
  const out: number[] = [];
  for (const [num, kind, val] of fields) {
    if (kind === 'varint') out.push(...varint((num << 3) | 0), ...varint(val));
    else {
      const bytes = kind === 'msg' ? encode(val) : typeof val === 'string' ? new TextEncoder().encode(val) : val;
      out.push(...varint((num << 3) | 2), ...varint(bytes.length), ...bytes);
    }
  }
  return new Uint8Array(out);
}

// --- ONNX messages (field numbers from onnx.proto) -------------------------------------------------------
const FLOAT = 1;
const INT64 = 7;
const dim = (d: number | string): Field => [1, 'msg', typeof d === 'number' ? [[1, 'varint', d]] : [[2, 'bytes', d]]];
const valueInfo = (name: string, elemType: number, dims: (number | string)[]): Field[] => [
  [1, 'bytes', name],
  [
    2,
    'msg',
    [
      [
        1,
        'msg',
        [
          [1, 'varint', elemType],
          [2, 'msg', dims.map(dim)],
        ],
      ],
    ],
  ],
];
function tensor(name: string, dims: number[], type: number, values: number[]): Field[] {
  const raw = type === FLOAT ? new Uint8Array(Float32Array.from(values).buffer) : new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
  return [...dims.map((d): Field => [1, 'varint', d]), [2, 'varint', type], [8, 'bytes', name], [9, 'bytes', raw]];
}
const attrInts = (name: string, ints: number[]): Field => [5, 'msg', [[1, 'bytes', name], ...ints.map((i): Field => [8, 'varint', i]), [20, 'varint', 7]]];
const attrInt = (name: string, i: number): Field => [
  5,
  'msg',
  [
    [1, 'bytes', name],
    [3, 'varint', i],
    [20, 'varint', 2],
  ],
];
const node = (op: string, inputs: string[], outputs: string[], attrs: Field[] = []): Field => [
  1,
  'msg',
  [
    ...inputs.map((i): Field => [1, 'bytes', i]),
    ...outputs.map((o): Field => [2, 'bytes', o]),
    [3, 'bytes', `${op}_${outputs[0]}`],
    [4, 'bytes', op],
    ...attrs,
  ],
];
function model(graph: Field[]): Uint8Array {
  return encode([
    [1, 'varint', 7], // ir_version
    [2, 'bytes', 'gae-test'],
    [7, 'msg', graph],
    [
      8,
      'msg',
      [
        [1, 'bytes', ''],
        [2, 'varint', 13],
      ],
    ], // opset 13
  ]);
}

export const W_IMG = [
  [1, 0, 0, 1],
  [0, 1, 0, 1],
  [0, 0, 1, -1],
]; // [3,4]
export const VOCAB = ['<pad>', ...'abcdefghijklmnopqrstuvwxyz'];
/** EMBED[token] = [k, 1, k mod 3, −1] for the k-th letter; the pad row is 0. */
export const EMBED = VOCAB.map((_, k) => (k === 0 ? [0, 0, 0, 0] : [k, 1, k % 3, -1]));
export const IMAGE_MEAN = [0.5, 0.25, 0];
export const IMAGE_STD = [0.5, 0.25, 1];
export const SIZE = 8;

export async function writeTinyClip(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  const vision = model([
    node('ReduceMean', ['pixel_values'], ['pooled'], [attrInts('axes', [2, 3]), attrInt('keepdims', 0)]),
    node('MatMul', ['pooled', 'w_img'], ['image_embeds']),
    [2, 'bytes', 'tiny_clip_vision'],
    [5, 'msg', tensor('w_img', [3, 4], FLOAT, W_IMG.flat())],
    [11, 'msg', valueInfo('pixel_values', FLOAT, ['batch', 3, 'height', 'width'])],
    [12, 'msg', valueInfo('image_embeds', FLOAT, ['batch', 4])],
  ]);
  const text = model([
    node('Gather', ['embed', 'input_ids'], ['tok'], [attrInt('axis', 0)]),
    node('Cast', ['attention_mask'], ['maskf'], [attrInt('to', FLOAT)]),
    node('Unsqueeze', ['maskf', 'axis2'], ['mask3']),
    node('Mul', ['tok', 'mask3'], ['masked']),
    node('ReduceSum', ['masked', 'axis1'], ['text_embeds'], [attrInt('keepdims', 0)]),
    [2, 'bytes', 'tiny_clip_text'],
    [5, 'msg', tensor('embed', [VOCAB.length, 4], FLOAT, EMBED.flat())],
    [5, 'msg', tensor('axis1', [1], INT64, [1])],
    [5, 'msg', tensor('axis2', [1], INT64, [2])],
    [11, 'msg', valueInfo('input_ids', INT64, ['batch', 'sequence'])],
    [11, 'msg', valueInfo('attention_mask', INT64, ['batch', 'sequence'])],
    [12, 'msg', valueInfo('text_embeds', FLOAT, ['batch', 4])],
  ]);
  await writeFile(path.join(dir, 'onnx', 'vision_model.onnx'), vision);
  await writeFile(path.join(dir, 'onnx', 'text_model.onnx'), text);
  await writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'clip',
      _name_or_path: 'gae-test/tiny-clip',
      projection_dim: 4,
      text_config: { model_type: 'clip_text_model' },
      vision_config: { model_type: 'clip_vision_model', image_size: SIZE },
    }),
  );
  await writeFile(
    path.join(dir, 'preprocessor_config.json'),
    JSON.stringify({
      image_processor_type: 'CLIPImageProcessor',
      processor_class: 'CLIPProcessor',
      do_resize: true,
      size: { shortest_edge: SIZE },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: SIZE, width: SIZE },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: IMAGE_MEAN,
      image_std: IMAGE_STD,
      do_convert_rgb: true,
    }),
  );
  await writeFile(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [{ id: 0, content: '<pad>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: { type: 'WhitespaceSplit' },
      post_processor: null,
      decoder: null,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
        merges: [],
      },
    }),
  );
  await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'CLIPTokenizer', pad_token: '<pad>', model_max_length: 16 }));
}
