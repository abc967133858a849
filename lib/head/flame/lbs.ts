/**
 * FLAME's forward model (as GaussianAvatars evaluates it), in float64:
 *
 *   v_shaped = template + Σ_k β_k S_k + static_offset          β = [shape, expr]
 *   J        = J_regressor · v_shaped                           (5 joints)
 *   R_j      = Rodrigues(θ_j)                                   θ = [rotation, neck, jaw, eyeL, eyeR]
 *   v_posed  = v_shaped + Σ_k p_k P_k                           p = [R_1 − I, …, R_4 − I] (36, row-major)
 *   G_0 = [R_0 | J_0],  G_j = G_parent(j) · [R_j | J_j − J_parent(j)]
 *   A_j = [G_j.R | G_j.t − G_j.R J_j]                           (rest pose → posed)
 *   v        = Σ_j w_vj A_j v_posed + translation               (linear blend skinning)
 *
 * `flameFrame` gives the per-frame quantities (β, p, A_j, translation) that both the float64 reference
 * here and the WGSL kernel (kernels/lbs.wgsl.ts) consume; only the per-vertex sums differ.
 */
import { axisAngleToMatrix, type Vec3 } from '../math.js';
import { FLAME_JOINT_COUNT, type FlameModel } from './model.js';

export interface FlameParams {
  shape: Float32Array; // [shapeCount] identity coefficients
  expr: Float32Array; // [exprCount] expression coefficients
  rotation: Vec3; // axis-angle, radians: the global joint
  neck: Vec3;
  jaw: Vec3;
  eyes: [number, number, number, number, number, number]; // left eye then right eye, axis-angle
  translation: Vec3; // metres, applied last
}

export function neutralFlameParams(model: Pick<FlameModel, 'shapeCount' | 'exprCount'>): FlameParams {
  return {
    shape: new Float32Array(model.shapeCount),
    expr: new Float32Array(model.exprCount),
    rotation: [0, 0, 0],
    neck: [0, 0, 0],
    jaw: [0, 0, 0],
    eyes: [0, 0, 0, 0, 0, 0],
    translation: [0, 0, 0],
  };
}

export function checkFlameParams(model: Pick<FlameModel, 'shapeCount' | 'exprCount'>, p: FlameParams, where = 'FLAME params'): void {
  if (p.shape.length !== model.shapeCount) throw new Error(`${where}: shape: expected ${model.shapeCount} values, got ${p.shape.length}`);
  if (p.expr.length !== model.exprCount) throw new Error(`${where}: expr: expected ${model.exprCount} values, got ${p.expr.length}`);
  for (const k of ['rotation', 'neck', 'jaw', 'translation'] as const)
    if (p[k].length !== 3) throw new Error(`${where}: ${k}: expected 3 values, got ${p[k].length}`);
  if (p.eyes.length !== 6) throw new Error(`${where}: eyes: expected 6 values, got ${p.eyes.length}`);
}

/** Per-frame inputs of the per-vertex sums. */
export interface FlameFrame {
  betas: Float64Array; // [shapeCount + exprCount]
  poseFeature: Float64Array; // [36]
  transforms: Float64Array; // [5,12] row-major 3×4 A_j
  joints: Float64Array; // [5,3] rest-pose joints (J), metres
  translation: Vec3;
}

/** v_shaped of one vertex (float64). */
function shapedVertex(m: FlameModel, betas: ArrayLike<number>, offset: ArrayLike<number> | undefined, v: number, out: Float64Array): void {
  const n = m.vertexCount * 3;
  for (let c = 0; c < 3; c++) {
    let s = m.template[3 * v + c]! + (offset ? offset[3 * v + c]! : 0);
    for (let k = 0; k < betas.length; k++) s += betas[k]! * m.shapedirs[k * n + 3 * v + c]!;
    out[c] = s;
  }
}

/** β, the pose feature and the joint transforms of a frame; `staticOffset` [V,3] is the subject's. */
export function flameFrame(m: FlameModel, p: FlameParams, staticOffset?: ArrayLike<number>): FlameFrame {
  checkFlameParams(m, p);
  const betas = new Float64Array(m.shapeCount + m.exprCount);
  betas.set(p.shape, 0);
  betas.set(p.expr, m.shapeCount);
  // Joints from the regressor, over the vertices it uses.
  const V = m.vertexCount;
  const J = new Float64Array(FLAME_JOINT_COUNT * 3);
  const vs = new Float64Array(3);
  for (let v = 0; v < V; v++) {
    let any = false;
    for (let j = 0; j < FLAME_JOINT_COUNT; j++) if (m.jointRegressor[j * V + v] !== 0) any = true;
    if (!any) continue;
    shapedVertex(m, betas, staticOffset, v, vs);
    for (let j = 0; j < FLAME_JOINT_COUNT; j++) {
      const r = m.jointRegressor[j * V + v]!;
      for (let c = 0; c < 3; c++) J[3 * j + c] += r * vs[c]!;
    }
  }
  const theta = [p.rotation, p.neck, p.jaw, p.eyes.slice(0, 3), p.eyes.slice(3, 6)];
  const R = theta.map((t) => axisAngleToMatrix(t));
  const poseFeature = new Float64Array(36);
  for (let j = 1; j < FLAME_JOINT_COUNT; j++) for (let i = 0; i < 9; i++) poseFeature[(j - 1) * 9 + i] = R[j]![i]! - (i % 4 === 0 ? 1 : 0);
  // Global transforms G_j (3×4), then A_j.
  const G: Float64Array[] = [];
  for (let j = 0; j < FLAME_JOINT_COUNT; j++) {
    const par = m.parents[j]!;
    const t = [0, 1, 2].map((c) => J[3 * j + c]! - (par >= 0 ? J[3 * par + c]! : 0));
    const local = new Float64Array(12);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) local[4 * r + c] = R[j]![3 * r + c]!;
      local[4 * r + 3] = t[r]!;
    }
    G.push(par >= 0 ? composeAffine(G[par]!, local) : local);
  }
  const transforms = new Float64Array(FLAME_JOINT_COUNT * 12);
  for (let j = 0; j < FLAME_JOINT_COUNT; j++) {
    const g = G[j]!;
    for (let r = 0; r < 3; r++) {
      let rj = 0;
      for (let c = 0; c < 3; c++) {
        transforms[12 * j + 4 * r + c] = g[4 * r + c]!;
        rj += g[4 * r + c]! * J[3 * j + c]!;
      }
      transforms[12 * j + 4 * r + 3] = g[4 * r + 3]! - rj;
    }
  }
  return { betas, poseFeature, transforms, joints: J, translation: [...p.translation] as Vec3 };
}

/** a ∘ b for 3×4 affines. */
function composeAffine(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(12);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      let s = c === 3 ? a[4 * r + 3]! : 0;
      for (let k = 0; k < 3; k++) s += a[4 * r + k]! * b[4 * k + c]!;
      out[4 * r + c] = s;
    }
  }
  return out;
}

/** The posed mesh in float64 [V,3], metres: the reference the GPU kernel is tested against. */
export function poseFlame64(m: FlameModel, p: FlameParams, staticOffset?: ArrayLike<number>): Float64Array {
  const fr = flameFrame(m, p, staticOffset);
  const V = m.vertexCount,
    n = V * 3;
  const out = new Float64Array(n);
  const vs = new Float64Array(3);
  for (let v = 0; v < V; v++) {
    shapedVertex(m, fr.betas, staticOffset, v, vs);
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let k = 0; k < 36; k++) s += fr.poseFeature[k]! * m.posedirs[k * n + 3 * v + c]!;
      vs[c] += s;
    }
    for (let r = 0; r < 3; r++) {
      let s = 0;
      for (let j = 0; j < FLAME_JOINT_COUNT; j++) {
        const w = m.weights[v * FLAME_JOINT_COUNT + j]!;
        if (w === 0) continue;
        const A = fr.transforms;
        s += w * (A[12 * j + 4 * r]! * vs[0]! + A[12 * j + 4 * r + 1]! * vs[1]! + A[12 * j + 4 * r + 2]! * vs[2]! + A[12 * j + 4 * r + 3]!);
      }
      out[3 * v + r] = s + fr.translation[r]!;
    }
  }
  return out;
}

/** The posed mesh as float32 [V,3] (the CPU path of the head interface). */
export function poseFlame(m: FlameModel, p: FlameParams, staticOffset?: ArrayLike<number>, out?: Float32Array): Float32Array {
  const v = poseFlame64(m, p, staticOffset);
  const o = out ?? new Float32Array(v.length);
  o.set(v);
  return o;
}
