/**
 * Texture-space edits: each one is a text instruction and an exact change of the albedo. Rendering the
 * edited texture with the dataset's head parameters and cameras is the ground truth of what a perfect
 * text-driven editor would produce (docs/method.md §7). Labels never change: the regions an edit
 * touches are listed so that the evaluation knows where to look.
 */
import type { HeadLandmarks } from './landmarks.js';
import type { Look, TextureMasks } from './texture-types.js';
import { Region } from './regions.js';
import { Material } from './model.js';

export interface EditSpec {
  id: string;
  prompt: string;
  /** The caption of the edited subject, for CLIP directional similarity (method.md §6). */
  caption: string;
  /** Region ids whose appearance the edit changes. */
  regions: readonly number[];
}

export const EDITS = [
  { id: 'gold-teeth', prompt: 'turn his teeth gold', caption: 'a photo of a man with gold teeth', regions: [Region.teeth] },
  { id: 'green-skin', prompt: 'give him green skin', caption: 'a photo of a man with green skin', regions: [Region.skin] },
  { id: 'red-lipstick', prompt: 'paint red lipstick', caption: 'a photo of a man wearing red lipstick', regions: [Region.lips] },
  { id: 'blue-eyes', prompt: 'make the eyes bright blue', caption: 'a photo of a man with bright blue eyes', regions: [Region.eyes] },
  { id: 'cheek-tattoo', prompt: 'add a tattoo on the left cheek', caption: 'a photo of a man with a tattoo on his left cheek', regions: [Region.skin] },
] as const satisfies readonly EditSpec[];

export type EditId = (typeof EDITS)[number]['id'];
export const EDIT_IDS: readonly EditId[] = EDITS.map((e) => e.id);
/** Caption of the unedited subject (the CLIP directional baseline). */
export const ORIGINAL_CAPTION = 'a photo of a man';

export function editSpec(id: string): EditSpec {
  const e = EDITS.find((x) => x.id === id);
  if (!e) throw new Error(`unknown edit "${id}" (known: ${EDIT_IDS.join(', ')})`);
  return e;
}

type RGB = [number, number, number];
const lum = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
const smoothstep = (a: number, b: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
};

function blend(rgb: Float32Array, p: number, c: RGB, t: number): void {
  if (t <= 0) return;
  for (let k = 0; k < 3; k++) rgb[3 * p + k] = rgb[3 * p + k]! + (c[k]! - rgb[3 * p + k]!) * Math.min(1, t);
}

/** Signed distance (mm) to a five-pointed star of outer radius R and inner radius r, centred at 0. */
function starDistance(x: number, y: number, R: number, r: number): number {
  // Fold into one of the ten wedges, then distance to the edge between an outer and an inner vertex.
  const n = 5;
  let a = Math.atan2(x, y); // 0 = up
  const wedge = Math.PI / n;
  a = ((a % (2 * wedge)) + 2 * wedge) % (2 * wedge);
  if (a > wedge) a = 2 * wedge - a;
  const d = Math.hypot(x, y);
  const px = d * Math.sin(a),
    py = d * Math.cos(a);
  const ax = 0,
    ay = R,
    bx = r * Math.sin(wedge),
    by = r * Math.cos(wedge);
  const ex = bx - ax,
    ey = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey)));
  const dist = Math.hypot(px - ax - t * ex, py - ay - t * ey);
  const side = (px - ax) * ey - (py - ay) * ex; // > 0 on the centre's side of the edge
  return side > 0 ? -dist : dist;
}

/** The tattoo's ink coverage at a neutral-mesh point (0..1): a star in a ring, 24 mm across. */
export function tattooInk(lm: HeadLandmarks, x: number, y: number, z: number): number {
  const { point: c, normal: n } = lm.cheekLeft;
  const dx = x - c[0],
    dy = y - c[1],
    dz = z - c[2];
  const h = dx * n[0] + dy * n[1] + dz * n[2];
  if (Math.abs(h) > 0.012 || x < 0) return 0;
  // Tangent frame: e2 = world up projected on the tangent plane, e1 = e2 × n.
  let e2 = [-n[1] * n[0], 1 - n[1] * n[1], -n[1] * n[2]];
  const l2 = Math.hypot(e2[0]!, e2[1]!, e2[2]!);
  e2 = e2.map((v) => v / l2);
  const e1 = [e2[1]! * n[2] - e2[2]! * n[1], e2[2]! * n[0] - e2[0]! * n[2], e2[0]! * n[1] - e2[1]! * n[0]];
  const u = 1000 * (dx * e1[0]! + dy * e1[1]! + dz * e1[2]!);
  const v = 1000 * (dx * e2[0]! + dy * e2[1]! + dz * e2[2]!);
  const rad = Math.hypot(u, v);
  const ring = smoothstep(0.95, 0.55, Math.abs(rad - 11));
  const star = smoothstep(0.3, -0.3, starDistance(u, v, 8.5, 3.4));
  return Math.min(1, Math.max(ring, 0.92 * star));
}

/** Applies `id` to the float albedo [H,W,3] in place. */
export function applyEdit(id: EditId, rgb: Float32Array, masks: TextureMasks, lm: HeadLandmarks, look: Look): void {
  const spec = editSpec(id);
  const n = masks.width * masks.height;
  const ref = lum(...look.skin);
  for (let p = 0; p < n; p++) {
    const mat = masks.material[p]!;
    // An edit changes only texels of its regions, so its ground truth has crisp region support.
    if (mat < 0 || !spec.regions.includes(masks.labels[p]!)) continue;
    const r = rgb[3 * p]!,
      g = rgb[3 * p + 1]!,
      b = rgb[3 * p + 2]!;
    switch (id) {
      case 'gold-teeth':
        if (mat === Material.M_Teeth) {
          const l = lum(r, g, b) / 0.87;
          blend(rgb, p, [0.95 * l, 0.74 * l, 0.22 * l], 1);
        }
        break;
      case 'green-skin': {
        if (mat !== Material.M_Face && mat !== Material.M_BackHead) break;
        const w = (1 - masks.lips[p]!) * (1 - masks.hair[p]!) * (1 - Math.min(1, masks.brows[p]! * 1.5));
        const l = lum(r, g, b) / ref;
        blend(rgb, p, [0.3 * l, 0.66 * l, 0.22 * l], w);
        break;
      }
      case 'red-lipstick': {
        const w = masks.lips[p]!;
        if (w > 0) {
          const l = Math.min(1.3, lum(r, g, b) / lum(...look.lips));
          blend(rgb, p, [0.78 * l, 0.04 * l, 0.1 * l], w);
        }
        break;
      }
      case 'blue-eyes': {
        const w = masks.iris[p]!;
        if (w > 0) {
          const l = Math.min(1.4, lum(r, g, b) / lum(...look.iris));
          blend(rgb, p, [0.1 * l, 0.45 * l, 1.0 * Math.min(1, l)], w);
        }
        break;
      }
      case 'cheek-tattoo': {
        if (mat !== Material.M_Face) break;
        const ink = tattooInk(lm, masks.position[3 * p]!, masks.position[3 * p + 1]!, masks.position[3 * p + 2]!);
        blend(rgb, p, [0.07, 0.09, 0.2], ink * 0.9);
        break;
      }
    }
  }
}
