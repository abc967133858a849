/**
 * The FLAME head model (Li et al. 2017) from the user's own `flame2023.pkl` or FLAME 2020
 * `generic_model.pkl` (FLAME's licence needs registration, so no FLAME file ships with the workbench),
 * extended with GaussianAvatars' teeth (teeth.ts) unless asked not to.
 *
 * Keys read from the pickle (a dict): v_template [V,3] metres, f [T,3], shapedirs [V,3,K] (K = 300 shape
 * + up to 100 expression components; a chumpy array in FLAME 2020), posedirs [V,3,36], J_regressor
 * (scipy sparse [5,V]), weights [V,5], kintree_table [2,5]. Joints: 0 global, 1 neck, 2 jaw, 3 left
 * eye, 4 right eye. World frame as ICT-FaceKit's: metres, y up, z out of the face.
 */
import * as path from 'node:path';
import { asFloat64, expectShape, type NdArray } from '../../io/ndarray.js';
import { parsePickle, pickledArray, readPickle, sparseToDense } from '../../io/pickle.js';
import {
  FLAME_LIP_RING_LOWER,
  FLAME_LIP_RING_UPPER,
  FLAME_VERTEX_COUNT,
  TEETH_VERTEX_COUNT,
  teethGroups,
  teethTriangles,
  teethVertices,
  type LipRings,
} from './teeth.js';

export const FLAME_JOINTS = ['global', 'neck', 'jaw', 'eyeLeft', 'eyeRight'] as const;
export const FLAME_JOINT_COUNT = 5;
/** GaussianAvatars' split of FLAME's blendshapes: the first 300 are shape, the rest expression. */
export const FLAME_SHAPE_COUNT = 300;
export const FLAME_EXPR_COUNT = 100;
const POSE_BASIS = (FLAME_JOINT_COUNT - 1) * 9;

export interface FlameModel {
  file: string;
  /** Vertices and triangles of FLAME itself, before the teeth. */
  baseVertexCount: number;
  baseTriangleCount: number;
  vertexCount: number; // V (with teeth)
  triangleCount: number; // T (with teeth)
  template: Float64Array; // [V,3] metres
  faces: Uint32Array; // [T,3]
  shapeCount: number; // ≤ 300
  exprCount: number; // ≤ 100
  /** Blendshapes, component-major: [shapeCount + exprCount, V, 3] metres per unit coefficient. */
  shapedirs: Float64Array;
  posedirs: Float64Array; // [36, V, 3] pose correctives, per entry of (R_j − I), joints 1..4
  jointRegressor: Float64Array; // [5, V]
  parents: Int32Array; // [5], −1 for the root
  weights: Float64Array; // [V,5] skinning weights
  /** Vertex ids of GaussianAvatars' teeth, or empty arrays without teeth. */
  teeth: { upper: Uint32Array; lower: Uint32Array };
}

export interface FlameLoadOptions {
  /** Append GaussianAvatars' teeth (default true: its avatars bind to them). */
  teeth?: boolean;
  /** Lip rings for the teeth; FLAME's own when the mesh has FLAME's 5023 vertices. */
  lipRings?: LipRings;
}

const REQUIRED = ['v_template', 'f', 'shapedirs', 'posedirs', 'J_regressor', 'weights', 'kintree_table'] as const;

export async function loadFlame(file: string, opts: FlameLoadOptions = {}): Promise<FlameModel> {
  return flameFromPickle(await readPickle(file), file, opts);
}

export function parseFlame(bytes: Uint8Array, file: string, opts: FlameLoadOptions = {}): FlameModel {
  return flameFromPickle(parsePickle(bytes, file), file, opts);
}

function flameFromPickle(root: unknown, file: string, opts: FlameLoadOptions): FlameModel {
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw new Error(`${file}: expected a pickled dict of FLAME arrays`);
  const dict = root instanceof Map ? Object.fromEntries(root) : (root as Record<string, unknown>);
  for (const k of REQUIRED) if (!(k in dict)) throw new Error(`${file}: ${k}: missing (a FLAME model pickle has ${REQUIRED.join(', ')})`);
  const arr = (k: string): NdArray => pickledArray(dict[k], `${file}: ${k}`);
  const vt = expectShape(arr('v_template'), [-1, 3], `${file}: v_template`);
  const V0 = vt.shape[0]!;
  const f = expectShape(arr('f'), [-1, 3], `${file}: f`);
  const T0 = f.shape[0]!;
  const sd = expectShape(arr('shapedirs'), [V0, 3, -1], `${file}: shapedirs`);
  const pd = expectShape(arr('posedirs'), [V0, 3, POSE_BASIS], `${file}: posedirs`);
  const jr = expectShape(sparseToDense(dict['J_regressor'], `${file}: J_regressor`), [FLAME_JOINT_COUNT, V0], `${file}: J_regressor`);
  const w = expectShape(arr('weights'), [V0, FLAME_JOINT_COUNT], `${file}: weights`);
  const kt = expectShape(arr('kintree_table'), [2, FLAME_JOINT_COUNT], `${file}: kintree_table`);

  for (let i = 0; i < f.data.length; i++) {
    const v = f.data[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= V0) throw new Error(`${file}: f: entry ${i} = ${v} is not a vertex index (V = ${V0})`);
  }
  const parents = new Int32Array(FLAME_JOINT_COUNT);
  parents[0] = -1; // FLAME stores the root's parent as 2^32 − 1
  for (let j = 1; j < FLAME_JOINT_COUNT; j++) {
    const p = kt.data[j]!;
    if (!(p >= 0 && p < j)) throw new Error(`${file}: kintree_table: joint ${j} has parent ${p} (must be an earlier joint)`);
    parents[j] = p;
  }
  const K = sd.shape[2]!;
  const shapeCount = Math.min(FLAME_SHAPE_COUNT, K);
  const exprCount = Math.min(FLAME_EXPR_COUNT, Math.max(0, K - FLAME_SHAPE_COUNT));

  const withTeeth = opts.teeth ?? true;
  const rings = opts.lipRings ?? (V0 === FLAME_VERTEX_COUNT ? { upper: FLAME_LIP_RING_UPPER, lower: FLAME_LIP_RING_LOWER } : undefined);
  if (withTeeth && !rings) {
    throw new Error(
      `${file}: v_template: ${V0} vertices, not FLAME's ${FLAME_VERTEX_COUNT} (GaussianAvatars' teeth hang on FLAME's lip vertices; another topology needs lipRings)`,
    );
  }
  if (rings) {
    for (const [name, ring] of Object.entries(rings) as [string, ArrayLike<number>][]) {
      if (ring.length !== 15) throw new Error(`lipRings.${name}: expected 15 vertex ids, got ${ring.length}`);
      for (let i = 0; i < 15; i++)
        if (!(ring[i]! >= 0 && ring[i]! < V0)) throw new Error(`lipRings.${name}[${i}] = ${ring[i]} is outside the mesh (V = ${V0})`);
    }
  }
  const Vt = withTeeth ? TEETH_VERTEX_COUNT : 0;
  const V = V0 + Vt;
  const Kc = shapeCount + exprCount;

  const template = new Float64Array(V * 3);
  template.set(asFloat64(vt));
  const faces = new Uint32Array(withTeeth ? (T0 + 168) * 3 : T0 * 3);
  faces.set(Uint32Array.from(f.data));
  // Blendshapes: the pickle's [V,3,K] → component-major [Kc, V, 3].
  const shapedirs = new Float64Array(Kc * V * 3);
  const sdd = sd.data;
  const comp = (k: number) => (k < shapeCount ? k : FLAME_SHAPE_COUNT + (k - shapeCount));
  for (let k = 0; k < Kc; k++) {
    const src = comp(k);
    for (let i = 0; i < V0 * 3; i++) shapedirs[k * V * 3 + i] = sdd[i * K + src]!;
  }
  const posedirs = new Float64Array(POSE_BASIS * V * 3);
  for (let k = 0; k < POSE_BASIS; k++) for (let i = 0; i < V0 * 3; i++) posedirs[k * V * 3 + i] = pd.data[i * POSE_BASIS + k]!;
  const jointRegressor = new Float64Array(FLAME_JOINT_COUNT * V);
  for (let j = 0; j < FLAME_JOINT_COUNT; j++) for (let v = 0; v < V0; v++) jointRegressor[j * V + v] = jr.data[j * V0 + v]!;
  const weights = new Float64Array(V * FLAME_JOINT_COUNT);
  weights.set(asFloat64(w));

  let teeth = { upper: new Uint32Array(0), lower: new Uint32Array(0) };
  if (withTeeth && rings) {
    template.set(teethVertices(template, rings), V0 * 3);
    const tri = teethTriangles();
    for (let i = 0; i < tri.length; i++) faces[T0 * 3 + i] = tri[i]! + V0;
    const g = teethGroups();
    teeth = { upper: Uint32Array.from(g.upper, (v) => v + V0), lower: Uint32Array.from(g.lower, (v) => v + V0) };
    // Shape (not expression) blendshapes: the mean of the two lip rings', for every teeth vertex.
    for (let k = 0; k < shapeCount; k++) {
      for (let i = 0; i < 15; i++) {
        for (let c = 0; c < 3; c++) {
          const m = (shapedirs[k * V * 3 + 3 * rings.upper[i]! + c]! + shapedirs[k * V * 3 + 3 * rings.lower[i]! + c]!) / 2;
          for (const g2 of [...g.upper, ...g.lower]) if (g2 % 15 === i) shapedirs[k * V * 3 + 3 * (V0 + g2) + c] = m;
        }
      }
    }
    for (const v of teeth.upper) weights[v * FLAME_JOINT_COUNT + 1] = 1;
    for (const v of teeth.lower) weights[v * FLAME_JOINT_COUNT + 2] = 1;
  }
  return {
    file: path.resolve(file),
    baseVertexCount: V0,
    baseTriangleCount: T0,
    vertexCount: V,
    triangleCount: faces.length / 3,
    template,
    faces,
    shapeCount,
    exprCount,
    shapedirs,
    posedirs,
    jointRegressor,
    parents,
    weights,
    teeth,
  };
}
