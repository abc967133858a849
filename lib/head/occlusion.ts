/**
 * A per-vertex ambient occlusion factor for the mouth interior: teeth, gums and tongue darken with depth
 * into the mouth (model z, neutral mesh), the way a real mouth interior receives less light than the lips.
 * Everything else gets 1. Part of the renderer's shading model, not of the albedo, so texture edits
 * (gold teeth) stay pure albedo edits.
 */
import type { HeadModel } from './model.js';
import { Material } from './model.js';

const cache = new WeakMap<HeadModel, Float32Array>();

const smoothstep = (a: number, b: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
};

export function mouthOcclusion(model: HeadModel): Float32Array {
  let ao = cache.get(model);
  if (ao) return ao;
  ao = new Float32Array(model.vertexCount).fill(1);
  let zFront = -Infinity;
  const inMouth = new Uint8Array(model.vertexCount);
  for (let t = 0; t < model.triangleCount; t++) {
    const m = model.faceMaterial[t]!;
    if (m !== Material.M_Teeth && m !== Material.M_GumsTongue) continue;
    for (let c = 0; c < 3; c++) inMouth[model.faces[3 * t + c]!] = 1;
  }
  for (let v = 0; v < model.vertexCount; v++) if (inMouth[v]) zFront = Math.max(zFront, model.neutral[3 * v + 2]!);
  for (let v = 0; v < model.vertexCount; v++) {
    if (!inMouth[v]) continue;
    const depth = zFront - model.neutral[3 * v + 2]!; // metres behind the front teeth
    ao[v] = 1 - 0.7 * smoothstep(0.004, 0.045, depth);
  }
  cache.set(model, ao);
  return ao;
}
