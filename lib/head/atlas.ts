/**
 * The texture atlas: ICT-FaceKit gives each material its own UV square (UDIM-like tiles at u ∈ [k, k+1),
 * and the eyes reuse [0, 1]²), so we pack the rendered materials into one atlas image of 4S × 3S texels:
 *
 *   +---------+---------+---------+
 *   |         |  back   |  gums/  |     S = tile size (texels); the face gets 2S × 2S.
 *   |  face   |  head   |  tongue |
 *   |         +---------+---------+
 *   |         |  teeth  | sclera L|
 *   +----+----+---------+---------+
 *   |iris L|sclera R| iris R |    |
 *   +----+----+---------+---------+
 *
 * Atlas coordinates are normalised (0..1, y down: row 0 is the top of the image, v = 1 of the source).
 *
 * Not rendered: the lacrimal fluid, eye blend and eye occlusion layers (transparent overlays in the
 * source) and the eyelashes (alpha-cut cards); they have no opaque appearance to give a mesh renderer.
 */
import type { HeadModel } from './model.js';
import { Material } from './model.js';

export interface AtlasTile {
  material: number;
  x: number; // top-left, in units of S
  y: number;
  size: number; // in units of S
  /** Source u range of this material: [u0, u0 + uSpan). */
  u0: number;
  uSpan: number;
}

export const ATLAS_COLS = 4;
export const ATLAS_ROWS = 3;

export const ATLAS_TILES: readonly AtlasTile[] = [
  { material: Material.M_Face, x: 0, y: 0, size: 2, u0: 0, uSpan: 1 },
  { material: Material.M_BackHead, x: 2, y: 0, size: 1, u0: 1, uSpan: 1 },
  { material: Material.M_GumsTongue, x: 3, y: 0, size: 1, u0: 2, uSpan: 1 },
  { material: Material.M_Teeth, x: 2, y: 1, size: 1, u0: 3, uSpan: 1 },
  { material: Material.M_ScleraLeft, x: 3, y: 1, size: 1, u0: 0, uSpan: 1 },
  { material: Material.M_IrisLeft, x: 0, y: 2, size: 1, u0: 0, uSpan: 1 },
  { material: Material.M_ScleraRight, x: 1, y: 2, size: 1, u0: 0, uSpan: 1 },
  { material: Material.M_IrisRight, x: 2, y: 2, size: 1, u0: 0, uSpan: 1 },
];

export const RENDERED_MATERIALS: readonly number[] = ATLAS_TILES.map((t) => t.material);

export function tileOf(material: number): AtlasTile | undefined {
  return ATLAS_TILES.find((t) => t.material === material);
}

/** Indices of the triangles the renderer draws (materials with an atlas tile), ascending. */
export function renderedTriangles(model: HeadModel): Uint32Array {
  const out: number[] = [];
  for (let t = 0; t < model.triangleCount; t++) if (tileOf(model.faceMaterial[t]!)) out.push(t);
  return Uint32Array.from(out);
}

/** Maps a source uv of `material` to normalised atlas coordinates (x right, y down). */
export function atlasCoord(tile: AtlasTile, u: number, v: number): [number, number] {
  const fu = Math.min(1, Math.max(0, (u - tile.u0) / tile.uSpan));
  const fv = Math.min(1, Math.max(0, v));
  return [(tile.x + fu * tile.size) / ATLAS_COLS, (tile.y + (1 - fv) * tile.size) / ATLAS_ROWS];
}

/** Atlas coordinates of every corner of every triangle: Float32Array [T,3,2] (0 for unrendered ones). */
export function cornerAtlasUvs(model: HeadModel): Float32Array {
  const out = new Float32Array(model.triangleCount * 6);
  for (let t = 0; t < model.triangleCount; t++) {
    const tile = tileOf(model.faceMaterial[t]!);
    if (!tile) continue;
    for (let c = 0; c < 3; c++) {
      const k = model.faceUvs[3 * t + c]!;
      const [x, y] = atlasCoord(tile, model.uvs[2 * k]!, model.uvs[2 * k + 1]!);
      out[6 * t + 2 * c] = x;
      out[6 * t + 2 * c + 1] = y;
    }
  }
  return out;
}

export interface UvRaster {
  width: number; // 4S
  height: number; // 3S
  channels: number;
  /** Per-texel attributes interpolated from the triangle that covers the texel (after dilation: nearest). */
  data: Float32Array; // [H,W,channels]
  /** Material of the texel (−1 for gutter texels that no triangle covers even after dilation). */
  material: Int8Array; // [H,W]
  /** 1 where a triangle covers the texel centre, 0 for dilated or empty texels. */
  covered: Uint8Array; // [H,W]
}

/**
 * Rasterises per-vertex attributes ([V, channels]) into the atlas, interpolating barycentrically at texel
 * centres, then dilates them `dilate` texels into the gutters, so that bilinear and mip-mapped sampling
 * near UV seams reads plausible values.
 */
export function rasterizeUv(model: HeadModel, S: number, attrs: Float32Array, channels: number, dilate = 6): UvRaster {
  const W = ATLAS_COLS * S,
    H = ATLAS_ROWS * S;
  const data = new Float32Array(W * H * channels);
  const material = new Int8Array(W * H).fill(-1);
  const covered = new Uint8Array(W * H);
  const uv = cornerAtlasUvs(model);
  for (let t = 0; t < model.triangleCount; t++) {
    const mat = model.faceMaterial[t]!;
    if (!tileOf(mat)) continue;
    const px = [uv[6 * t]! * W, uv[6 * t + 2]! * W, uv[6 * t + 4]! * W];
    const py = [uv[6 * t + 1]! * H, uv[6 * t + 3]! * H, uv[6 * t + 5]! * H];
    const den = (py[1]! - py[2]!) * (px[0]! - px[2]!) + (px[2]! - px[1]!) * (py[0]! - py[2]!);
    if (Math.abs(den) < 1e-12) continue;
    const x0 = Math.max(0, Math.floor(Math.min(...px) - 0.5)),
      x1 = Math.min(W - 1, Math.ceil(Math.max(...px) - 0.5));
    const y0 = Math.max(0, Math.floor(Math.min(...py) - 0.5)),
      y1 = Math.min(H - 1, Math.ceil(Math.max(...py) - 0.5));
    const v0 = model.faces[3 * t]!,
      v1 = model.faces[3 * t + 1]!,
      v2 = model.faces[3 * t + 2]!;
    for (let y = y0; y <= y1; y++) {
      const cy = y + 0.5;
      for (let x = x0; x <= x1; x++) {
        const cx = x + 0.5;
        const b0 = ((py[1]! - py[2]!) * (cx - px[2]!) + (px[2]! - px[1]!) * (cy - py[2]!)) / den;
        const b1 = ((py[2]! - py[0]!) * (cx - px[2]!) + (px[0]! - px[2]!) * (cy - py[2]!)) / den;
        const b2 = 1 - b0 - b1;
        if (b0 < -1e-6 || b1 < -1e-6 || b2 < -1e-6) continue;
        const p = y * W + x;
        covered[p] = 1;
        material[p] = mat;
        for (let k = 0; k < channels; k++) {
          data[p * channels + k] = b0 * attrs[v0 * channels + k]! + b1 * attrs[v1 * channels + k]! + b2 * attrs[v2 * channels + k]!;
        }
      }
    }
  }
  // Dilation: each round, an empty texel takes the mean of its filled 4-neighbours (within the same tile).
  const blockTile = new Int8Array(ATLAS_COLS * ATLAS_ROWS).fill(-1);
  ATLAS_TILES.forEach((tl, i) => {
    for (let by = tl.y; by < tl.y + tl.size; by++) for (let bx = tl.x; bx < tl.x + tl.size; bx++) blockTile[by * ATLAS_COLS + bx] = i;
  });
  const tileId = (x: number, y: number) => blockTile[Math.floor(y / S) * ATLAS_COLS + Math.floor(x / S)]!;
  const acc = new Float64Array(channels);
  let filled = Uint8Array.from(covered);
  for (let r = 0; r < dilate; r++) {
    const next = Uint8Array.from(filled);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        if (filled[p]) continue;
        let n = 0;
        let mat = -1;
        acc.fill(0);
        for (const [dx, dy] of [
          [1, 0],
          [-1, 0],
          [0, 1],
          [0, -1],
        ] as const) {
          const nx = x + dx,
            ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= W || ny >= H) continue;
          const q = ny * W + nx;
          if (!filled[q] || tileId(nx, ny) !== tileId(x, y)) continue;
          for (let k = 0; k < channels; k++) acc[k]! += data[q * channels + k]!;
          mat = material[q]!;
          n++;
        }
        if (n === 0) continue;
        for (let k = 0; k < channels; k++) data[p * channels + k] = acc[k]! / n;
        material[p] = mat;
        next[p] = 1;
      }
    }
    filled = next;
  }
  return { width: W, height: H, channels, data, material, covered };
}
