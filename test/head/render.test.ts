import { describe, expect, it } from 'vitest';
import { loadHeadModel, expressionIndex, type HeadModel } from '../../lib/head/model.js';
import { neutralParams, poseHead } from '../../lib/head/pose.js';
import { makeHeadTexture, type HeadTexture } from '../../lib/head/texture.js';
import { renderMesh, FLAT_SHADING, DEFAULT_SHADING } from '../../lib/head/render.js';
import { cornerAtlasUvs, renderedTriangles } from '../../lib/head/atlas.js';
import { makeCamera, lookAt, cameraCentre, projectPoint } from '../../lib/raster/camera.js';
import type { Camera } from '../../lib/raster/types.js';
import { Region } from '../../lib/head/regions.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();

interface Hit {
  tri: number;
  b: [number, number, number];
  z: number;
}

/** Nearest intersection of the pixel-centre ray with the drawn triangles (float64 Möller–Trumbore). */
function castRay(cam: Camera, verts: Float32Array, model: HeadModel, tris: Uint32Array, px: number, py: number): Hit | null {
  const m = cam.worldToCamera;
  const dc = [(px + 0.5 - cam.cx) / cam.fx, (py + 0.5 - cam.cy) / cam.fy, 1];
  // World direction Rᵀ dc (unnormalised, so the ray parameter is camera z).
  const d = [0, 1, 2].map((c) => m[c]! * dc[0]! + m[4 + c]! * dc[1]! + m[8 + c]! * dc[2]!);
  const o = cameraCentre(cam);
  let best: Hit | null = null;
  for (const t of tris) {
    const i0 = 3 * model.faces[3 * t]!,
      i1 = 3 * model.faces[3 * t + 1]!,
      i2 = 3 * model.faces[3 * t + 2]!;
    const e1 = [verts[i1]! - verts[i0]!, verts[i1 + 1]! - verts[i0 + 1]!, verts[i1 + 2]! - verts[i0 + 2]!];
    const e2 = [verts[i2]! - verts[i0]!, verts[i2 + 1]! - verts[i0 + 1]!, verts[i2 + 2]! - verts[i0 + 2]!];
    const p = [d[1]! * e2[2]! - d[2]! * e2[1]!, d[2]! * e2[0]! - d[0]! * e2[2]!, d[0]! * e2[1]! - d[1]! * e2[0]!];
    const det = e1[0]! * p[0]! + e1[1]! * p[1]! + e1[2]! * p[2]!;
    if (Math.abs(det) < 1e-18) continue;
    const s = [o[0] - verts[i0]!, o[1] - verts[i0 + 1]!, o[2] - verts[i0 + 2]!];
    const u = (s[0]! * p[0]! + s[1]! * p[1]! + s[2]! * p[2]!) / det;
    if (u < 0 || u > 1) continue;
    const q = [s[1]! * e1[2]! - s[2]! * e1[1]!, s[2]! * e1[0]! - s[0]! * e1[2]!, s[0]! * e1[1]! - s[1]! * e1[0]!];
    const v = (d[0]! * q[0]! + d[1]! * q[1]! + d[2]! * q[2]!) / det;
    if (v < 0 || u + v > 1) continue;
    const z = (e2[0]! * q[0]! + e2[1]! * q[1]! + e2[2]! * q[2]!) / det;
    if (z <= cam.near) continue;
    if (!best || z < best.z) best = { tri: t, b: [1 - u - v, u, v], z };
  }
  return best;
}

/** Bilinear sample of the albedo's level 0 as WebGPU defines it (texel centres at (i + 0.5) / W, clamp to edge). */
function sampleBilinear(tex: HeadTexture, x: number, y: number): number[] {
  const fx = x * tex.width - 0.5,
    fy = y * tex.height - 0.5;
  const x0 = Math.floor(fx),
    y0 = Math.floor(fy),
    tx = fx - x0,
    ty = fy - y0;
  const at = (xx: number, yy: number, k: number) => {
    const cx = Math.min(tex.width - 1, Math.max(0, xx)),
      cy = Math.min(tex.height - 1, Math.max(0, yy));
    return tex.albedo[4 * (cy * tex.width + cx) + k]! / 255;
  };
  return [0, 1, 2].map(
    (k) => (1 - ty) * ((1 - tx) * at(x0, y0, k) + tx * at(x0 + 1, y0, k)) + ty * ((1 - tx) * at(x0, y0 + 1, k) + tx * at(x0 + 1, y0 + 1, k)),
  );
}

describe('renderMesh', () => {
  it('puts every surface point on the pixel the Camera contract gives, with its texel colour, depth and label', async () => {
    const ctx = await gpu();
    const model = await loadHeadModel();
    const tex = makeHeadTexture(model, { seed: 5, tileSize: 64 });
    const p = neutralParams();
    p.neck = [0.05, 0.3, 0.0];
    const verts = poseHead(model, p);
    // An off-centre principal point and fx ≠ fy, so a transposed or mis-centred projection fails.
    const cam = makeCamera({ width: 72, height: 60, fx: 260, fy: 250, cx: 33.3, cy: 31.7 }, lookAt([0.15, 0.05, 0.6], [0, 0, 0.05]));
    const out = await renderMesh(ctx, verts, cam, tex, { shading: FLAT_SHADING, mipmaps: false, background: [0.2, 0.4, 0.6] });
    const tris = renderedTriangles(model);
    const uv = cornerAtlasUvs(model);
    let checked = 0,
      background = 0;
    for (let py = 2; py < cam.height; py += 5) {
      for (let px = 3; px < cam.width; px += 5) {
        const hit = castRay(cam, verts, model, tris, px, py);
        const q = py * cam.width + px;
        if (!hit) {
          expect(out.alpha[q]).toBe(0);
          expect(out.labels[q]).toBe(Region.background);
          expect(out.rgb.data[3 * q]).toBeCloseTo(0.2, 5);
          background++;
          continue;
        }
        // Skip pixels too close to a triangle edge for float32 vs float64 to agree on the triangle.
        if (Math.min(...hit.b) < 0.03) continue;
        expect(out.alpha[q]).toBe(1);
        expect(Math.abs(out.depth[q]! - hit.z)).toBeLessThan(2e-4);
        const t = hit.tri;
        const u = hit.b[0] * uv[6 * t]! + hit.b[1] * uv[6 * t + 2]! + hit.b[2] * uv[6 * t + 4]!;
        const v = hit.b[0] * uv[6 * t + 1]! + hit.b[1] * uv[6 * t + 3]! + hit.b[2] * uv[6 * t + 5]!;
        const want = sampleBilinear(tex, u, v);
        for (let k = 0; k < 3; k++) expect(Math.abs(out.rgb.data[3 * q + k]! - want[k]!)).toBeLessThan(0.02);
        const lx = u * tex.width,
          ly = v * tex.height;
        if (Math.abs(lx - Math.round(lx)) > 0.02 && Math.abs(ly - Math.round(ly)) > 0.02) {
          expect(out.labels[q]).toBe(tex.labels[Math.floor(ly) * tex.width + Math.floor(lx)]);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(background).toBeGreaterThan(5);
  });

  it('agrees with projectPoint: a vertex projects into a covered pixel at its depth', async () => {
    const ctx = await gpu();
    const model = await loadHeadModel();
    const tex = makeHeadTexture(model, { seed: 5, tileSize: 64 });
    const verts = poseHead(model, neutralParams());
    const cam = makeCamera({ width: 64, height: 64, fx: 300, fy: 300, cx: 32, cy: 32 }, lookAt([0, 0, 0.7], [0, 0, 0]));
    const out = await renderMesh(ctx, verts, cam, tex, { shading: FLAT_SHADING });
    // Nose tip: the frontmost vertex, seen head-on, so nothing occludes it.
    let nose = 0;
    for (let v = 0; v < 9409; v++) if (verts[3 * v + 2]! > verts[3 * nose + 2]!) nose = v;
    const [u, v, z] = projectPoint(cam, verts, 3 * nose);
    const q = Math.floor(v) * cam.width + Math.floor(u);
    expect(out.alpha[q]).toBe(1);
    expect(Math.abs(out.depth[q]! - z)).toBeLessThan(0.003); // within the pixel's footprint on the nose
    expect(out.labels[q]).toBe(Region.skin);
  });

  it('shows teeth in a frontal view when the jaw is open, none when the mouth is closed', async () => {
    const ctx = await gpu();
    const model = await loadHeadModel();
    const tex = makeHeadTexture(model, { seed: 2, tileSize: 64 });
    const cam = makeCamera({ width: 128, height: 88, fx: 420, fy: 420, cx: 64, cy: 44 }, lookAt([0, 0.0, 1.0], [0, -0.02, 0.02]));
    const count = (labels: Uint8Array, id: number) => labels.reduce((n, l) => n + (l === id ? 1 : 0), 0);
    const closed = await renderMesh(ctx, poseHead(model, neutralParams()), cam, tex, { supersample: 2 });
    const p = neutralParams();
    p.expression[expressionIndex(model, 'jawOpen')] = 0.9;
    p.expression[expressionIndex(model, 'mouthUpperUp_L')] = 0.5;
    p.expression[expressionIndex(model, 'mouthUpperUp_R')] = 0.5;
    const open = await renderMesh(ctx, poseHead(model, p), cam, tex, { supersample: 2 });
    expect(count(closed.labels, Region.teeth)).toBe(0);
    expect(count(closed.labels, Region.tongue)).toBe(0);
    expect(count(closed.labels, Region.lips)).toBeGreaterThan(5);
    expect(count(closed.labels, Region.eyes)).toBeGreaterThan(4);
    expect(count(open.labels, Region.teeth)).toBeGreaterThan(8);
    expect(count(open.labels, Region.tongue)).toBeGreaterThan(50);
    // The default shading is Lambert + ambient: lit skin is darker than its albedo somewhere, never brighter than 1.
    const lit = await renderMesh(ctx, poseHead(model, neutralParams()), cam, tex, { shading: DEFAULT_SHADING });
    const flat = await renderMesh(ctx, poseHead(model, neutralParams()), cam, tex, { shading: FLAT_SHADING });
    let darker = 0;
    for (let q = 0; q < cam.width * cam.height; q++) if (lit.alpha[q] === 1 && lit.rgb.data[3 * q]! < flat.rgb.data[3 * q]! - 0.05) darker++;
    expect(darker).toBeGreaterThan(50);
  });

  it('gives the same images for concurrent calls as for sequential ones', async () => {
    const ctx = await gpu();
    const model = await loadHeadModel();
    const tex = makeHeadTexture(model, { seed: 6, tileSize: 32 });
    const p = neutralParams();
    p.expression[expressionIndex(model, 'jawOpen')] = 0.5;
    const a = poseHead(model, neutralParams()),
      b = poseHead(model, p);
    const ca = makeCamera({ width: 40, height: 30, fx: 120, fy: 120, cx: 20, cy: 15 }, lookAt([0.3, 0, 0.9], [0, 0, 0.02]));
    const cb = makeCamera({ width: 36, height: 36, fx: 150, fy: 150, cx: 18, cy: 18 }, lookAt([-0.2, 0.1, 0.9], [0, 0, 0.02]));
    const seqA = await renderMesh(ctx, a, ca, tex);
    const seqB = await renderMesh(ctx, b, cb, tex, { supersample: 2 });
    const [parA, parB] = await Promise.all([renderMesh(ctx, a, ca, tex), renderMesh(ctx, b, cb, tex, { supersample: 2 })]);
    expect(Array.from(parA.rgb.data)).toEqual(Array.from(seqA.rgb.data));
    expect(Array.from(parB.rgb.data)).toEqual(Array.from(seqB.rgb.data));
    expect(Array.from(parB.labels)).toEqual(Array.from(seqB.labels));
  });
});
