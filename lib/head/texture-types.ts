/**
 * The shapes the procedural texture is built from: a subject's seeded look and the per-texel feature masks.
 * Their own file because both texture.ts (which makes them) and edits.ts (which paints edits through them)
 * need them, and texture.ts calls edits.ts.
 */

/** RGB, each channel in [0,1]. */
export type RGB = [number, number, number];

/** The subject's look, drawn from the seed. */
export interface Look {
  skin: RGB;
  hair: RGB;
  brow: RGB; // darker than the scalp hair
  iris: RGB;
  lips: RGB;
  stubble: number; // 0..1
  noiseSeed: number;
}

/** Per-texel feature masks that the albedo and the edits share ([H,W] each, 0..1). */
export interface TextureMasks {
  width: number;
  height: number;
  material: Int8Array; // [H,W] material index, −1 = empty
  position: Float32Array; // [H,W,3] neutral-mesh point, metres
  lips: Float32Array;
  brows: Float32Array;
  hair: Float32Array;
  /** Iris (between pupil and limbus), on the sclera's corneal bulge and on the iris mesh. */
  iris: Float32Array;
  pupil: Float32Array;
  labels: Uint8Array; // [H,W] region ids
}
