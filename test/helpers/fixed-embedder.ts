import type { Embedder } from '../../lib/metrics/clip.js';
import type { RgbImage } from '../../lib/util/image.js';

/** Test-only embedder: fixed vectors per image object and per text, and a log of what it was asked. */
export class FixedEmbedder implements Embedder {
  readonly id = 'test-fixed';
  readonly model = 'fixed-vectors';
  readonly imageCalls: number[] = [];
  constructor(
    private readonly images: Map<RgbImage, number[]>,
    private readonly texts: Record<string, number[]>,
  ) {}
  async embedImages(images: RgbImage[]): Promise<Float32Array[]> {
    this.imageCalls.push(images.length);
    return images.map((im) => {
      const v = this.images.get(im);
      if (!v) throw new Error('FixedEmbedder: unknown image');
      return Float32Array.from(v);
    });
  }
  async embedTexts(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => {
      const v = this.texts[t];
      if (!v) throw new Error(`FixedEmbedder: unknown text ${t}`);
      return Float32Array.from(v);
    });
  }
}
