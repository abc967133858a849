/**
 * A small FLAME-format stand-in model for the tests and notebook 06 (FLAME itself cannot ship): a closed ellipsoidal "head" of a
 * few hundred vertices with FLAME's keys, dtypes and layouts — v_template [V,3] f8, f [T,3] u4,
 * shapedirs [V,3,400] f8 (as a chumpy array, like FLAME 2020), posedirs [V,3,36] f8, J_regressor as a
 * scipy csc matrix [5,V], weights [V,5] f8, kintree_table [2,5] i8 — and two 15-vertex lip rings in
 * front, for the teeth.
 */
import { Rng } from '../util/random.js';
import { Pickler, ndarray, type PyValue } from '../io/pickle-write.js';

export interface TinyFlame {
  V: number;
  T: number;
  template: Float64Array; // [V,3]
  faces: Uint32Array; // [T,3]
  shapedirs: Float64Array; // [V,3,400] as in the file
  posedirs: Float64Array; // [V,3,36]
  jointRegressor: Float64Array; // [5,V] dense
  weights: Float64Array; // [V,5]
  parents: number[];
  lipRings: { upper: number[]; lower: number[] };
  entries: [string, PyValue][];
}

/**
 * The fixture; `seed` varies the blendshapes and correctives. `rings` × `segments` (latitude rows excluding
 * the poles × longitude columns; default 18 × 24, 434 vertices) sizes it: 70 × 72 is about FLAME's 5023.
 */
export function tinyFlame(seed = 1, size: { rings?: number; segments?: number } = {}): TinyFlame {
  const RINGS = size.rings ?? 18;
  const SEGMENTS = size.segments ?? 24;
  const rng = new Rng(seed);
  const pos: number[] = [];
  const idx = (r: number, s: number) => 1 + r * SEGMENTS + (s % SEGMENTS);
  pos.push(0, 0.12, 0); // top pole
  for (let r = 0; r < RINGS; r++) {
    const phi = (Math.PI * (r + 1)) / (RINGS + 1);
    for (let s = 0; s < SEGMENTS; s++) {
      // s = 0 faces the viewer (+z); columns go toward +x (the subject's left).
      const th = (2 * Math.PI * s) / SEGMENTS;
      pos.push(0.08 * Math.sin(phi) * Math.sin(th), 0.12 * Math.cos(phi), 0.09 * Math.sin(phi) * Math.cos(th));
    }
  }
  pos.push(0, -0.12, 0); // bottom pole
  const V = pos.length / 3;
  const faces: number[] = [];
  for (let s = 0; s < SEGMENTS; s++) faces.push(0, idx(0, s + 1), idx(0, s));
  for (let r = 0; r + 1 < RINGS; r++) {
    for (let s = 0; s < SEGMENTS; s++) {
      faces.push(idx(r, s), idx(r, s + 1), idx(r + 1, s));
      faces.push(idx(r, s + 1), idx(r + 1, s + 1), idx(r + 1, s));
    }
  }
  for (let s = 0; s < SEGMENTS; s++) faces.push(V - 1, idx(RINGS - 1, s), idx(RINGS - 1, s + 1));
  const T = faces.length / 3;
  const template = Float64Array.from(pos);

  // Lip rings: 15 columns across the front, on two rows below the middle (rows 11 and 12 of 18).
  const cols = Array.from({ length: 15 }, (_, i) => (SEGMENTS - 7 + i) % SEGMENTS);
  const lip = Math.round(RINGS * 0.61);
  const lipRings = { upper: cols.map((s) => idx(lip, s)), lower: cols.map((s) => idx(lip + 1, s)) };

  const K = 400;
  const shapedirs = new Float64Array(V * 3 * K);
  for (let i = 0; i < shapedirs.length; i++) shapedirs[i] = 2e-4 * rng.normal();
  const posedirs = new Float64Array(V * 3 * 36);
  for (let i = 0; i < posedirs.length; i++) posedirs[i] = 1e-3 * rng.normal();

  // Joints: global at the centre, neck below, jaw in front of the neck, eyes up front.
  const near = (c: [number, number, number], n: number) =>
    Array.from({ length: V }, (_, v) => v)
      .sort(
        (a, b) =>
          Math.hypot(template[3 * a]! - c[0], template[3 * a + 1]! - c[1], template[3 * a + 2]! - c[2]) -
          Math.hypot(template[3 * b]! - c[0], template[3 * b + 1]! - c[1], template[3 * b + 2]! - c[2]),
      )
      .slice(0, n);
  const jointSets = [near([0, 0, 0], 6), near([0, -0.12, 0], 5), near([0, -0.06, 0.08], 4), near([0.03, 0.03, 0.09], 3), near([-0.03, 0.03, 0.09], 3)];
  const jointRegressor = new Float64Array(5 * V);
  jointSets.forEach((set, j) => set.forEach((v) => (jointRegressor[j * V + v] = 1 / set.length)));

  const weights = new Float64Array(V * 5);
  for (let v = 0; v < V; v++) {
    const y = template[3 * v + 1]!,
      z = template[3 * v + 2]!,
      x = template[3 * v]!;
    const w = [
      1,
      Math.max(0, -y / 0.12) * 0.8,
      z > 0 && y < -0.02 ? 0.6 : 0,
      z > 0.06 && x > 0.02 && y > 0.02 ? 4 : 0,
      z > 0.06 && x < -0.02 && y > 0.02 ? 4 : 0,
    ];
    const sum = w.reduce((a, b) => a + b, 0);
    for (let j = 0; j < 5; j++) weights[v * 5 + j] = w[j]! / sum;
  }
  const parents = [-1, 0, 1, 1, 1];

  // J_regressor as csc: column-major over vertices.
  const data: number[] = [],
    indices: number[] = [],
    indptr: number[] = [0];
  for (let v = 0; v < V; v++) {
    for (let j = 0; j < 5; j++)
      if (jointRegressor[j * V + v] !== 0) {
        data.push(jointRegressor[j * V + v]!);
        indices.push(j);
      }
    indptr.push(data.length);
  }
  const kintree = new BigInt64Array([4294967295n, 0n, 1n, 1n, 1n, 0n, 1n, 2n, 3n, 4n]);
  const entries: [string, PyValue][] = [
    ['f', ndarray('<u4', [T, 3], Uint32Array.from(faces))],
    ['v_template', ndarray('<f8', [V, 3], template)],
    ['shapedirs', { chumpy: ndarray('<f8', [V, 3, K], shapedirs) }],
    ['posedirs', ndarray('<f8', [V, 3, 36], posedirs)],
    ['J_regressor', { csc: { shape: [5, V], data: Float64Array.from(data), indices: Int32Array.from(indices), indptr: Int32Array.from(indptr) } }],
    ['weights', ndarray('<f8', [V, 5], weights)],
    ['kintree_table', ndarray('<i8', [2, 5], kintree)],
    ['bs_style', { str: 'lbs' }],
    ['bs_type', { str: 'lrotmin' }],
  ];
  return { V, T, template, faces: Uint32Array.from(faces), shapedirs, posedirs, jointRegressor, weights, parents, lipRings, entries };
}

/** The fixture's pickle bytes; `drop`/`replace` make malformed variants. */
export function tinyFlamePickle(f: TinyFlame, opts: { style?: 'py2' | 'py3'; drop?: string; replace?: [string, PyValue] } = {}): Uint8Array {
  const entries = f.entries
    .filter(([k]) => k !== opts.drop)
    .map(([k, v]): [string, PyValue] => (opts.replace && k === opts.replace[0] ? [k, opts.replace[1]] : [k, v]));
  return Pickler.dump({ dict: entries }, opts.style ?? 'py2');
}
