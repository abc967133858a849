/**
 * The head's rig: a jaw joint and per-vertex jaw weights, and a neck joint, both placed from the model's
 * own geometry.
 *
 * Jaw: ICT-FaceKit's `jawOpen` blendshape moves the lower teeth rigidly (a 25° rotation, 0.1 mm rms
 * residual). We fit that rotation (2D Procrustes in the sagittal plane) and take its fixed point as the
 * jaw joint. A vertex's jaw weight is how much of the fitted rigid motion `jawOpen` gives it,
 *   w_i = clamp(d_i · r_i / max(|r_i|², r_min²), 0, 1),   r_i = (R − I)(p_i − J),  d_i = jawOpen offset,
 * so the chin, lower lip, lower gums and tongue follow the jaw as the model itself moves them; lower teeth
 * get exactly 1, upper teeth and eyes 0. Weights below ~0.1 fade to 0 (jawOpen's support ends abruptly at
 * small offsets), and eight rounds of neighbour averaging make the field smooth.
 *
 * Neck: a fixed point at the top of the neck (the centroid of a neck slice in x, z; 25 mm below the jaw
 * joint in y). The whole posed head rotates about it, then translates.
 */
import type { HeadModel } from './model.js';
import { Material, expressionIndex } from './model.js';
import type { Vec3 } from './math.js';

export interface HeadRig {
  jawPivot: Vec3; // metres, model frame
  /** The rotation (about +x, radians) that jawOpen = 1 applies to the lower teeth. */
  jawOpenAngle: number;
  jawWeights: Float32Array; // [V] in [0, 1]
  neckPivot: Vec3; // metres, model frame
  lowerTeeth: Uint8Array; // [V] 1 for vertices of lower teeth
}

const smoothstep = (a: number, b: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
};

const rigs = new WeakMap<HeadModel, HeadRig>();

export function headRig(model: HeadModel): HeadRig {
  let r = rigs.get(model);
  if (!r) rigs.set(model, (r = buildRig(model)));
  return r;
}

function materialVertices(model: HeadModel, mats: number[]): Uint8Array {
  const out = new Uint8Array(model.vertexCount);
  for (let t = 0; t < model.triangleCount; t++) {
    if (mats.includes(model.faceMaterial[t]!)) for (let c = 0; c < 3; c++) out[model.faces[3 * t + c]!] = 1;
  }
  return out;
}

function buildRig(model: HeadModel): HeadRig {
  const V = model.vertexCount;
  const P = model.neutral;
  const jo = expressionIndex(model, 'jawOpen') * V * 3;
  const D = model.expressions;
  const teeth = materialVertices(model, [Material.M_Teeth]);
  const lowerTeeth = new Uint8Array(V);
  const sel: number[] = [];
  for (let v = 0; v < V; v++) {
    if (teeth[v] && Math.hypot(D[jo + 3 * v]!, D[jo + 3 * v + 1]!, D[jo + 3 * v + 2]!) > 1e-3) {
      lowerTeeth[v] = 1;
      sel.push(v);
    }
  }
  if (sel.length < 10) throw new Error('head rig: jawOpen does not move the teeth; cannot place the jaw joint');

  // 2D Procrustes (y, z) of the lower teeth: neutral → neutral + jawOpen.
  let py = 0,
    pz = 0,
    qy = 0,
    qz = 0;
  for (const v of sel) {
    py += P[3 * v + 1]!;
    pz += P[3 * v + 2]!;
    qy += P[3 * v + 1]! + D[jo + 3 * v + 1]!;
    qz += P[3 * v + 2]! + D[jo + 3 * v + 2]!;
  }
  const n = sel.length;
  py /= n;
  pz /= n;
  qy /= n;
  qz /= n;
  let sc = 0,
    ss = 0;
  for (const v of sel) {
    const ay = P[3 * v + 1]! - py,
      az = P[3 * v + 2]! - pz;
    const by = P[3 * v + 1]! + D[jo + 3 * v + 1]! - qy,
      bz = P[3 * v + 2]! + D[jo + 3 * v + 2]! - qz;
    sc += ay * by + az * bz;
    ss += ay * bz - az * by;
  }
  const th = Math.atan2(ss, sc);
  const c = Math.cos(th),
    s = Math.sin(th);
  // q = R (p − J) + J  ⇒  (I − R) J = q̄ − R p̄
  const ty = qy - (c * py - s * pz),
    tz = qz - (s * py + c * pz);
  const a11 = 1 - c,
    a12 = s,
    a21 = -s,
    a22 = 1 - c;
  const det = a11 * a22 - a12 * a21;
  const Jy = (a22 * ty - a12 * tz) / det,
    Jz = (-a21 * ty + a11 * tz) / det;
  const jawPivot: Vec3 = [0, Jy, Jz];

  // Weights: projection of jawOpen's offset on the fitted rigid offset.
  const w = new Float32Array(V);
  const rMin = 0.01;
  for (let v = 0; v < V; v++) {
    const y = P[3 * v + 1]! - Jy,
      z = P[3 * v + 2]! - Jz;
    const ry = c * y - s * z - y,
      rz = s * y + c * z - z;
    const d = D[jo + 3 * v + 1]! * ry + D[jo + 3 * v + 2]! * rz;
    const wv = Math.min(1, Math.max(0, d / Math.max(ry * ry + rz * rz, rMin * rMin)));
    // jawOpen's support ends with small but nonzero offsets; fading small weights to 0 avoids a crease there.
    w[v] = wv * smoothstep(0.03, 0.2, wv);
  }
  // Neighbour averaging over mesh edges, with the teeth and the eyes held fixed.
  const fixed = materialVertices(model, [Material.M_Teeth, Material.M_ScleraLeft, Material.M_ScleraRight, Material.M_IrisLeft, Material.M_IrisRight]);
  for (let v = 0; v < V; v++) if (fixed[v]) w[v] = lowerTeeth[v]!;
  const acc = new Float64Array(V);
  const cnt = new Float64Array(V);
  for (let it = 0; it < 8; it++) {
    acc.fill(0);
    cnt.fill(0);
    for (let t = 0; t < model.triangleCount; t++) {
      for (let k = 0; k < 3; k++) {
        const a = model.faces[3 * t + k]!,
          b = model.faces[3 * t + ((k + 1) % 3)]!;
        acc[a] += w[b]!;
        cnt[a]++;
        acc[b] += w[a]!;
        cnt[b]++;
      }
    }
    for (let v = 0; v < V; v++) if (!fixed[v] && cnt[v]! > 0) w[v] = 0.5 * w[v]! + (0.5 * acc[v]!) / cnt[v]!;
  }

  // Neck pivot: centroid (x, z) of the skin in a 1 cm slice 12 cm below the jaw joint.
  const skin = materialVertices(model, [Material.M_Face, Material.M_BackHead]);
  let nx = 0,
    nz = 0,
    nn = 0;
  for (let v = 0; v < V; v++) {
    if (skin[v] && Math.abs(P[3 * v + 1]! - (Jy - 0.12)) < 0.005) {
      nx += P[3 * v]!;
      nz += P[3 * v + 2]!;
      nn++;
    }
  }
  if (nn === 0) throw new Error('head rig: no neck vertices found for the neck pivot');
  const neckPivot: Vec3 = [nx / nn, Jy - 0.025, nz / nn];
  return { jawPivot, jawOpenAngle: th, jawWeights: w, neckPivot, lowerTeeth };
}
