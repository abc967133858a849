import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { clipDirectionConsistency, clipDirectionalSimilarity, clipScores, NO_EMBEDDER_NOTE } from '../../lib/metrics/clip.js';
import { createHfClipEmbedder } from '../../lib/metrics/clip-hf.js';
import { checkClipModelDir, createLocalClipEmbedder } from '../../lib/metrics/clip-local.js';
import { decodePng, rgbImage, type RgbImage } from '../../lib/util/image.js';
import { FixedEmbedder } from '../helpers/fixed-embedder.js';
import { EMBED, IMAGE_MEAN, IMAGE_STD, VOCAB, W_IMG, writeTinyClip } from '../helpers/tiny-clip.js';

// Frames i = 0, 1, 2: original and edited images with fixed embeddings (not unit length on purpose).
const orig = [rgbImage(1, 1), rgbImage(1, 1), rgbImage(1, 1)];
const edit = [rgbImage(1, 1), rgbImage(1, 1), rgbImage(1, 1)];
const vectors = new Map<RgbImage, number[]>([
  [orig[0]!, [1, 0, 0]],
  [edit[0]!, [0, 2, 0]], // direction (−1, 1, 0) after normalisation
  [orig[1]!, [1, 0, 0]],
  [edit[1]!, [0, 0, 3]], // (−1, 0, 1)
  [orig[2]!, [2, 0, 0]],
  [edit[2]!, [1, 1, 0]], // (1/√2 − 1, 1/√2, 0)
]);
const texts = { 'a person': [1, 0, 0], 'a person with a green face': [0.6, 0.8, 0] };
const captions = { edit: 'a person with a green face', original: 'a person' };
const pairs = [0, 1, 2].map((i) => ({ edited: edit[i]!, original: orig[i]! }));

describe('CLIP-S and CLIP-C', () => {
  it('match hand-computed cosines', async () => {
    const e = new FixedEmbedder(vectors, texts);
    const s = await clipDirectionalSimilarity(e, pairs, captions);
    // frame 0: cos((−1,1,0), (−0.4,0.8,0)) = 1.2/√1.6 ; frame 1: cos((−1,0,1), (−0.4,0.8,0)) = 0.4/(√2·√0.8)
    // frame 2: cos((1/√2−1, 1/√2, 0), (−0.4, 0.8, 0))
    const f2 = (-0.4 * (Math.SQRT1_2 - 1) + 0.8 * Math.SQRT1_2) / (Math.sqrt(2 - Math.SQRT2) * Math.sqrt(0.8));
    expect(s.values[0]).toBeCloseTo(0.9486832980505138, 7); // embeddings are float32
    expect(s.values[1]).toBeCloseTo(0.31622776601683794, 7); // embeddings are float32
    expect(s.values[2]).toBeCloseTo(f2, 7); // embeddings are float32
    expect(s.mean).toBeCloseTo((0.9486832980505138 + 0.31622776601683794 + f2) / 3, 7); // embeddings are float32
    const c = await clipDirectionConsistency(e, pairs);
    // cos((−1,1,0), (−1,0,1)) = 1/2 ; cos((−1,0,1), (1/√2−1, 1/√2, 0)) = 0.27059805007309856
    expect(c.values[0]).toBeCloseTo(0.5, 7); // embeddings are float32
    expect(c.values[1]).toBeCloseTo(0.27059805007309856, 7); // embeddings are float32
    expect(c.mean).toBeCloseTo((0.5 + 0.27059805007309856) / 2, 7); // embeddings are float32
  });

  it('normalises embeddings unless told not to', async () => {
    const e = new FixedEmbedder(vectors, texts);
    // Raw: (−1, 2, 0) against (−0.4, 0.8, 0) are parallel.
    const raw = await clipDirectionalSimilarity(e, [pairs[0]!], captions, { normalize: false });
    expect(raw.values[0]).toBeCloseTo(1, 7); // embeddings are float32
  });

  it('clipScores pools CLIP-S over frames and CLIP-C within sequences, embedding each frame once, in batches', async () => {
    const e = new FixedEmbedder(vectors, texts);
    const r = await clipScores(e, [pairs.slice(0, 2), [pairs[2]!]], captions, { batchSize: 3 });
    const f2 = (-0.4 * (Math.SQRT1_2 - 1) + 0.8 * Math.SQRT1_2) / (Math.sqrt(2 - Math.SQRT2) * Math.sqrt(0.8));
    expect(r.clipS).toBeCloseTo((0.9486832980505138 + 0.31622776601683794 + f2) / 3, 7); // embeddings are float32
    expect(r.clipC).toBeCloseTo(0.5, 7); // embeddings are float32 // only the first sequence has a consecutive pair
    expect(r.model).toBe('fixed-vectors');
    expect(e.imageCalls).toEqual([3, 1, 2]);
  });

  it('reports missing CLIP columns as null with a note when no embedder is configured', async () => {
    const r = await clipScores(null, [pairs], captions);
    expect(r).toEqual({ clipS: null, clipC: null, embedder: null, model: null, note: NO_EMBEDDER_NOTE });
  });
});

describe('HF feature-extraction endpoint embedder', () => {
  it('sends captions and PNG data URIs in the documented shape and reads one vector per input', async () => {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { inputs: string[] };
        bodies.push({ auth: req.headers.authorization, ...parsed });
        // text → [length, 1]; image → its decoded mean colour
        const out = parsed.inputs.map((s) => {
          if (!s.startsWith('data:image/png;base64,')) return [s.length, 1, 0];
          const img = decodePng(Buffer.from(s.slice(22), 'base64')).rgb;
          return [img.data[0]!, img.data[1]!, img.data[2]!];
        });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(out));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const e = createHfClipEmbedder({ token: 'hf_test', model: 'openai/clip-vit-large-patch14', endpointUrl: url, batchSize: 2 });
      const imgs = [rgbImage(2, 2, [1, 0, 0]), rgbImage(2, 2, [0, 1, 0]), rgbImage(3, 1, [0, 0, 1])];
      const v = await e.embedImages(imgs);
      expect(v.map((x) => [...x])).toEqual([
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]);
      const t = await e.embedTexts(['abc']);
      expect([...t[0]!]).toEqual([3, 1, 0]);
      expect(bodies.length).toBe(3); // two image batches (2 + 1) and one text batch
      expect((bodies[0] as { auth: string }).auth).toBe('Bearer hf_test');
      expect(e.model).toBe('openai/clip-vit-large-patch14');
    } finally {
      server.close();
    }
  });

  it('refuses token-level answers', async () => {
    const fakeFetch = (async () =>
      new Response(
        JSON.stringify([
          [
            [1, 2],
            [3, 4],
          ],
        ]),
        { headers: { 'content-type': 'application/json' } },
      )) as typeof fetch;
    const e = createHfClipEmbedder({ token: '', model: 'm', endpointUrl: 'http://127.0.0.1:9/x', fetch: fakeFetch });
    await expect(e.embedTexts(['a'])).rejects.toThrow(/not a flat number array/);
  });
});

describe('local CLIP embedder', () => {
  it('names what a model directory lacks before loading anything', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-clip-'));
    await expect(createLocalClipEmbedder({ modelDir: path.join(dir, 'nope') })).rejects.toThrow(/does not exist/);
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    expect(() => checkClipModelDir(dir)).toThrow(/lacks preprocessor_config.json, tokenizer.json, onnx\/vision_model.onnx, onnx\/text_model.onnx/);
    await mkdir(path.join(dir, 'onnx'));
    for (const f of ['preprocessor_config.json', 'tokenizer.json', 'onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx'])
      await writeFile(path.join(dir, f), '{}');
    expect(() => checkClipModelDir(dir, 'q8')).toThrow(/model_type is 'bert', expected 'clip'/);
  });
});

describe('local CLIP embedder on transformers.js (a tiny generated ONNX CLIP)', () => {
  it('loads offline from the directory, preprocesses images and tokenizes text as CLIP does, and records the model name', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'gae-clip-')), 'tiny-clip');
    await writeTinyClip(dir);
    const e = await createLocalClipEmbedder({ modelDir: dir });
    expect([e.id, e.model]).toEqual(['transformers-local', 'gae-test/tiny-clip']);
    // Expected image embedding: per-channel normalised 8-bit colour, times W_IMG.
    const embedOf = (rgb: number[]) => {
      const x = rgb.map((v, c) => (Math.round(Math.fround(v) * 255) / 255 - IMAGE_MEAN[c]!) / IMAGE_STD[c]!); // images are float32
      return [0, 1, 2, 3].map((j) => x[0]! * W_IMG[0]![j]! + x[1]! * W_IMG[1]![j]! + x[2]! * W_IMG[2]![j]!);
    };
    const [a, b] = await e.embedImages([rgbImage(8, 8, [1, 0.5, 0]), rgbImage(12, 10, [0.2, 0.4, 0.6])]);
    embedOf([1, 0.5, 0]).forEach((v, j) => expect(a![j]).toBeCloseTo(v, 5)); // native size: exact up to float32
    embedOf([0.2, 0.4, 0.6]).forEach((v, j) => expect(Math.abs(b![j]! - v)).toBeLessThan(0.02)); // resized + cropped
    // Text: the sum of the token rows; the shorter text is padded and its padding masked out.
    const t = await e.embedTexts(['ab', 'cab d']);
    const sum = (s: string) => [...s.replace(/ /g, '')].reduce((acc, ch) => acc.map((v, j) => v + EMBED[VOCAB.indexOf(ch)]![j]!), [0, 0, 0, 0]);
    expect([...t[0]!]).toEqual(sum('ab'));
    expect([...t[1]!]).toEqual(sum('cabd'));
    // And it drives the CLIP scores end to end.
    const img = (c: [number, number, number]) => rgbImage(8, 8, c);
    const r = await clipScores(
      e,
      [
        [
          { edited: img([1, 0.5, 0]), original: img([0, 0.5, 0]) },
          { edited: img([0.9, 0.5, 0]), original: img([0, 0.5, 0]) },
        ],
      ],
      { edit: 'ab', original: 'a' },
    );
    expect(r.model).toBe('gae-test/tiny-clip');
    const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
    const direction = (p: number[], q: number[]) => unit(p).map((x, j) => x - unit(q)[j]!);
    const cos = (p: number[], q: number[]) => p.reduce((s, x, j) => s + x * q[j]!, 0) / (Math.hypot(...p) * Math.hypot(...q));
    const d0 = direction(embedOf([1, 0.5, 0]), embedOf([0, 0.5, 0]));
    const d1 = direction(embedOf([0.9, 0.5, 0]), embedOf([0, 0.5, 0]));
    const dt = direction(sum('ab'), sum('a'));
    expect(r.clipC).toBeCloseTo(cos(d0, d1), 5);
    expect(r.clipS).toBeCloseTo((cos(d0, dt) + cos(d1, dt)) / 2, 5);
  });
});

describe('embedder configuration', () => {
  it('none by default, local / hf from config or environment, clear errors', async () => {
    const { createEmbedder } = await import('../../lib/metrics/clip-config.js');
    expect(await createEmbedder(undefined, {})).toBeNull();
    expect(await createEmbedder({ kind: 'none' }, {})).toBeNull();
    const hf = await createEmbedder({ kind: 'hf', model: 'openai/clip-vit-large-patch14' }, { HF_TOKEN: 'hf_x' });
    expect([hf!.id, hf!.model]).toEqual(['hf-endpoint', 'openai/clip-vit-large-patch14']);
    await expect(createEmbedder({ kind: 'hf', model: 'm' }, {})).rejects.toThrow(/needs a token in \$HF_TOKEN/);
    await expect(createEmbedder(undefined, { GAE_CLIP_MODEL_DIR: '/nonexistent/clip' })).rejects.toThrow(
      /CLIP model directory \/nonexistent\/clip does not exist/,
    );
    await expect(createEmbedder({ kind: 'local' }, {}, 'edit.clip')).rejects.toThrow(/edit\.clip\.modelDir/);
  });
});
