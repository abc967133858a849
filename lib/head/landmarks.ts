/**
 * Facial landmarks of the neutral mesh, found from its geometry and materials (no hand-picked vertex
 * ids): eyeball centres and gaze axes (sclera and iris meshes), the mouth (the face mesh's inner lip
 * boundary loop), the nose tip. The procedural textures place lips, brows, iris, hairline and the cheek
 * tattoo relative to these, in 3D, so the texture is continuous across UV seams.
 */
import type { HeadModel } from './model.js';
import { Material } from './model.js';
import type { Vec3 } from './math.js';

export interface EyeLandmarks {
  centre: Vec3; // eyeball centre, metres
  axis: Vec3; // unit gaze direction (neutral)
  radius: number; // eyeball radius, metres
}

export interface HeadLandmarks {
  eyeLeft: EyeLandmarks; // subject's left (+x)
  eyeRight: EyeLandmarks;
  /** Height of the line where the lips meet, sampled at x = mouthX[i] (metres). */
  mouthX: Float64Array;
  mouthY: Float64Array;
  mouthCornerX: number; // |x| of the mouth corners
  mouthFrontZ: number; // z of the inner lip loop's front
  noseTip: Vec3;
  /** A point on the left cheek (subject's left, +x) and the skin's outward normal there. */
  cheekLeft: { point: Vec3; normal: Vec3 };
}

const cache = new WeakMap<HeadModel, HeadLandmarks>();

function materialVertexList(model: HeadModel, mat: number): number[] {
  const s = new Set<number>();
  for (let t = 0; t < model.triangleCount; t++) if (model.faceMaterial[t] === mat) for (let c = 0; c < 3; c++) s.add(model.faces[3 * t + c]!);
  return [...s];
}

function eye(model: HeadModel, sclera: number, iris: number): EyeLandmarks {
  const P = model.neutral;
  const sv = materialVertexList(model, sclera);
  const lo = [Infinity, Infinity, Infinity],
    hi = [-Infinity, -Infinity, -Infinity];
  for (const v of sv)
    for (let k = 0; k < 3; k++) {
      lo[k] = Math.min(lo[k]!, P[3 * v + k]!);
      hi[k] = Math.max(hi[k]!, P[3 * v + k]!);
    }
  // The sclera is a sphere with a corneal bulge at the front: centre from the x, y extents, and z from
  // the back (which has no bulge) plus the x radius.
  const r = (hi[0]! - lo[0]!) / 2;
  const centre: Vec3 = [(lo[0]! + hi[0]!) / 2, (lo[1]! + hi[1]!) / 2, lo[2]! + r];
  const iv = materialVertexList(model, iris);
  const ic = [0, 0, 0];
  for (const v of iv) for (let k = 0; k < 3; k++) ic[k]! += P[3 * v + k]! / iv.length;
  const a = [ic[0]! - centre[0], ic[1]! - centre[1], ic[2]! - centre[2]];
  const l = Math.hypot(a[0]!, a[1]!, a[2]!);
  return { centre, axis: [a[0]! / l, a[1]! / l, a[2]! / l], radius: r };
}

export function headLandmarks(model: HeadModel): HeadLandmarks {
  const hit = cache.get(model);
  if (hit) return hit;
  const P = model.neutral;
  // Boundary edges of the face material: the inner lip loop is the part near the mouth.
  const count = new Map<number, number>();
  const V = model.vertexCount;
  for (let t = 0; t < model.triangleCount; t++) {
    if (model.faceMaterial[t] !== Material.M_Face) continue;
    for (let c = 0; c < 3; c++) {
      const a = model.faces[3 * t + c]!,
        b = model.faces[3 * t + ((c + 1) % 3)]!;
      const k = Math.min(a, b) * V + Math.max(a, b);
      count.set(k, (count.get(k) ?? 0) + 1);
    }
  }
  const boundary = new Set<number>();
  for (const [k, n] of count)
    if (n === 1) {
      boundary.add(Math.floor(k / V));
      boundary.add(k % V);
    }
  let noseTip: Vec3 = [0, 0, -Infinity];
  for (const v of materialVertexList(model, Material.M_Face)) if (P[3 * v + 2]! > noseTip[2]) noseTip = [P[3 * v]!, P[3 * v + 1]!, P[3 * v + 2]!];
  // Mouth loop: boundary vertices below the nose and in front of the teeth's back.
  const mouth = [...boundary].filter((v) => {
    const x = P[3 * v]!,
      y = P[3 * v + 1]!,
      z = P[3 * v + 2]!;
    return y < noseTip[1] - 0.015 && y > noseTip[1] - 0.08 && Math.abs(x) < 0.04 && z > noseTip[2] - 0.06;
  });
  if (mouth.length < 8) throw new Error('head landmarks: inner lip loop not found');
  let cornerX = 0,
    frontZ = -Infinity;
  for (const v of mouth) {
    cornerX = Math.max(cornerX, Math.abs(P[3 * v]!));
    frontZ = Math.max(frontZ, P[3 * v + 2]!);
  }
  // Lip meeting line: mean of the upper and lower loop heights at each x (the loop's mid-line).
  const n = 25;
  const mouthX = new Float64Array(n),
    mouthY = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = -cornerX + (2 * cornerX * i) / (n - 1);
    let wsum = 0,
      ysum = 0,
      ymin = Infinity,
      ymax = -Infinity;
    for (const v of mouth) {
      const d = Math.abs(P[3 * v]! - x);
      if (d < 0.004) {
        ymin = Math.min(ymin, P[3 * v + 1]!);
        ymax = Math.max(ymax, P[3 * v + 1]!);
      }
      const w = Math.exp(-((d / 0.002) ** 2));
      wsum += w;
      ysum += w * P[3 * v + 1]!;
    }
    mouthX[i] = x;
    mouthY[i] = Number.isFinite(ymin) ? (ymin + ymax) / 2 : ysum / wsum;
  }
  // Left cheek: the frontmost face vertex over (x, y) = (48, −8) mm; normal from its neighbourhood.
  let cheek: Vec3 = [0.048, -0.008, 0];
  let best = Infinity;
  const faceV = materialVertexList(model, Material.M_Face);
  for (const v of faceV) {
    const d = Math.hypot(P[3 * v]! - 0.048, P[3 * v + 1]! + 0.008);
    if (d < 0.003 && P[3 * v + 2]! > 0.03 && d - P[3 * v + 2]! < best) {
      best = d - P[3 * v + 2]!;
      cheek = [P[3 * v]!, P[3 * v + 1]!, P[3 * v + 2]!];
    }
  }
  // Normal: least-squares plane of the face vertices within 12 mm (smallest principal axis, by power
  // iteration on the inverted-spectrum matrix tr(C)·I − C), oriented away from the head's centre.
  const near = faceV.filter((v) => Math.hypot(P[3 * v]! - cheek[0], P[3 * v + 1]! - cheek[1], P[3 * v + 2]! - cheek[2]) < 0.012);
  const mu = [0, 0, 0];
  for (const v of near) for (let k = 0; k < 3; k++) mu[k]! += P[3 * v + k]! / near.length;
  const C = new Float64Array(9);
  for (const v of near) for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) C[3 * a + b]! += (P[3 * v + a]! - mu[a]!) * (P[3 * v + b]! - mu[b]!);
  const tr = C[0]! + C[4]! + C[8]!;
  let nrm = [0.6, 0, 0.8];
  for (let it = 0; it < 100; it++) {
    const m = [0, 1, 2].map((a) => tr * nrm[a]! - (C[3 * a]! * nrm[0]! + C[3 * a + 1]! * nrm[1]! + C[3 * a + 2]! * nrm[2]!));
    const l = Math.hypot(m[0]!, m[1]!, m[2]!);
    nrm = m.map((x) => x / l);
  }
  if (nrm[0]! * cheek[0] + nrm[2]! * cheek[2] < 0) nrm = nrm.map((x) => -x);

  const lm: HeadLandmarks = {
    eyeLeft: eye(model, Material.M_ScleraLeft, Material.M_IrisLeft),
    eyeRight: eye(model, Material.M_ScleraRight, Material.M_IrisRight),
    mouthX,
    mouthY,
    mouthCornerX: cornerX,
    mouthFrontZ: frontZ,
    noseTip,
    cheekLeft: { point: cheek, normal: [nrm[0]!, nrm[1]!, nrm[2]!] },
  };
  cache.set(model, lm);
  return lm;
}

/** Lip meeting height at x (linear interpolation of the sampled mid-line, clamped at the corners). */
export function mouthLineY(lm: HeadLandmarks, x: number): number {
  const n = lm.mouthX.length;
  const t = ((x - lm.mouthX[0]!) / (lm.mouthX[n - 1]! - lm.mouthX[0]!)) * (n - 1);
  const i = Math.max(0, Math.min(n - 2, Math.floor(t)));
  const f = Math.max(0, Math.min(1, t - i));
  return lm.mouthY[i]! * (1 - f) + lm.mouthY[i + 1]! * f;
}
