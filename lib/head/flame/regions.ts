/**
 * Region labels of FLAME's triangles for the metrics (lib/head/regions.ts ids). Two sources:
 *
 * - FLAME_masks.pkl (FLAME's vertex masks, when the user has it): a triangle whose three vertices are all
 *   in `left_eyeball`/`right_eyeball` is eyes, in `lips` is lips, in `scalp` is hair; everything else is
 *   skin.
 * - Geometry (no masks file): eyes are the vertices skinned mostly to an eye joint (FLAME's eyeballs
 *   follow those joints rigidly); lips are the vertices in front of the teeth whose (x, y) lies inside the
 *   outer lip rings' polygon; everything else is skin (no hair: FLAME has no scalp boundary to find).
 *
 * GaussianAvatars' teeth triangles are teeth in both. FLAME has no tongue, so the mouth interior is the
 * teeth alone.
 */
import { asFloat64 } from '../../io/ndarray.js';
import { pickledArray, readPickle } from '../../io/pickle.js';
import { Region } from '../head.js';
import { FLAME_JOINT_COUNT, type FlameModel } from './model.js';
import type { LipRings } from './teeth.js';

export type FlameMasks = Record<string, Uint32Array>; // mask name → vertex ids

/** Reads FLAME_masks.pkl (a dict of vertex-id arrays); errors name the file and the key. */
export async function loadFlameMasks(file: string): Promise<FlameMasks> {
  const root = await readPickle(file);
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw new Error(`${file}: expected a pickled dict of vertex-id arrays`);
  const out: FlameMasks = {};
  for (const [k, v] of Object.entries(root as Record<string, unknown>)) out[k] = Uint32Array.from(asFloat64(pickledArray(v, `${file}: ${k}`)));
  for (const k of ['left_eyeball', 'right_eyeball', 'lips']) if (!out[k]) throw new Error(`${file}: ${k}: missing (a FLAME vertex-mask file has it)`);
  return out;
}

function teethTriangleRegions(m: FlameModel, out: Uint8Array): void {
  for (let t = m.baseTriangleCount; t < m.triangleCount; t++) out[t] = Region.teeth;
}

function byVertexSets(m: FlameModel, sets: [Uint8Array, number][], out: Uint8Array): void {
  for (let t = 0; t < m.baseTriangleCount; t++) {
    out[t] = Region.skin;
    for (const [set, region] of sets) {
      if (set[m.faces[3 * t]!] && set[m.faces[3 * t + 1]!] && set[m.faces[3 * t + 2]!]) {
        out[t] = region;
        break;
      }
    }
  }
}

export function regionsFromMasks(m: FlameModel, masks: FlameMasks, file = 'FLAME_masks.pkl'): Uint8Array {
  const set = (names: string[]) => {
    const s = new Uint8Array(m.vertexCount);
    for (const n of names) {
      for (const v of masks[n] ?? []) {
        if (v >= m.baseVertexCount) throw new Error(`${file}: ${n}: vertex ${v} is outside FLAME's ${m.baseVertexCount} vertices`);
        s[v] = 1;
      }
    }
    return s;
  };
  const out = new Uint8Array(m.triangleCount);
  byVertexSets(
    m,
    [
      [set(['left_eyeball', 'right_eyeball']), Region.eyes],
      [set(['lips']), Region.lips],
      [set(['scalp']), Region.hair],
    ],
    out,
  );
  teethTriangleRegions(m, out);
  return out;
}

export function regionsFromGeometry(m: FlameModel, rings: LipRings): Uint8Array {
  const V0 = m.baseVertexCount;
  const eyes = new Uint8Array(m.vertexCount);
  for (let v = 0; v < V0; v++) {
    const w = m.weights.subarray(v * FLAME_JOINT_COUNT, (v + 1) * FLAME_JOINT_COUNT);
    if (w[3]! > 0.5 || w[4]! > 0.5) eyes[v] = 1;
  }
  // Lip polygon in (x, y): the upper ring left→right, then the lower ring right→left.
  const poly: [number, number][] = [];
  for (let i = 0; i < rings.upper.length; i++) poly.push([m.template[3 * rings.upper[i]!]!, m.template[3 * rings.upper[i]! + 1]!]);
  for (let i = rings.lower.length - 1; i >= 0; i--) poly.push([m.template[3 * rings.lower[i]!]!, m.template[3 * rings.lower[i]! + 1]!]);
  let zBack = Infinity; // the front of the teeth: lips are in front of it
  for (const v of [...m.teeth.upper, ...m.teeth.lower]) zBack = Math.min(zBack, m.template[3 * v + 2]!);
  if (!Number.isFinite(zBack)) {
    zBack = Infinity;
    for (const v of [...Array.from(rings.upper), ...Array.from(rings.lower)]) zBack = Math.min(zBack, m.template[3 * v + 2]! - 0.01);
  }
  const lips = new Uint8Array(m.vertexCount);
  for (const v of [...Array.from(rings.upper), ...Array.from(rings.lower)]) lips[v] = 1;
  for (let v = 0; v < V0; v++) {
    if (m.template[3 * v + 2]! > zBack && !eyes[v] && insidePolygon(poly, m.template[3 * v]!, m.template[3 * v + 1]!)) lips[v] = 1;
  }
  const out = new Uint8Array(m.triangleCount);
  byVertexSets(
    m,
    [
      [eyes, Region.eyes],
      [lips, Region.lips],
    ],
    out,
  );
  teethTriangleRegions(m, out);
  return out;
}

function insidePolygon(poly: [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!,
      [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
