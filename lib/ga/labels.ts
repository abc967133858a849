/**
 * Per-pixel region labels of a posed head (the label maps the region metrics take, lib/metrics/regions.ts),
 * for subjects that bring no label images (GaussianAvatars subjects): each pixel centre takes the region of
 * the nearest triangle covering it (a z-buffer over the mesh), 0 (background) where none does. On the CPU:
 * FLAME's 10k triangles at 802×550 take a fraction of a second.
 */
import type { Camera } from '../raster/types.js';
import type { Head } from '../head/head.js';

/** Labels [H,W] of `verts` [V,3] (metres, world) with `faces` [T,3] and `triangleRegions` [T], seen by `cam`. */
export function rasterizeRegionLabels(verts: ArrayLike<number>, faces: ArrayLike<number>, triangleRegions: ArrayLike<number>, cam: Camera): Uint8Array {
  const { width: W, height: H } = cam;
  const m = cam.worldToCamera;
  const V = verts.length / 3;
  const u = new Float64Array(V),
    v = new Float64Array(V),
    z = new Float64Array(V);
  for (let i = 0; i < V; i++) {
    const x = verts[3 * i]!,
      y = verts[3 * i + 1]!,
      w = verts[3 * i + 2]!;
    const cx = m[0]! * x + m[1]! * y + m[2]! * w + m[3]!;
    const cy = m[4]! * x + m[5]! * y + m[6]! * w + m[7]!;
    const cz = m[8]! * x + m[9]! * y + m[10]! * w + m[11]!;
    z[i] = cz;
    u[i] = (cam.fx * cx) / cz + cam.cx;
    v[i] = (cam.fy * cy) / cz + cam.cy;
  }
  const depth = new Float64Array(W * H).fill(Infinity);
  const labels = new Uint8Array(W * H);
  const T = faces.length / 3;
  for (let t = 0; t < T; t++) {
    const a = faces[3 * t]!,
      b = faces[3 * t + 1]!,
      c = faces[3 * t + 2]!;
    if (z[a]! <= cam.near || z[b]! <= cam.near || z[c]! <= cam.near) continue;
    const area = (u[b]! - u[a]!) * (v[c]! - v[a]!) - (u[c]! - u[a]!) * (v[b]! - v[a]!);
    if (area === 0) continue;
    // Pixel (i, j) has its centre at (i + 0.5, j + 0.5) (the camera contract).
    const x0 = Math.max(0, Math.floor(Math.min(u[a]!, u[b]!, u[c]!) - 0.5)),
      x1 = Math.min(W - 1, Math.ceil(Math.max(u[a]!, u[b]!, u[c]!) - 0.5));
    const y0 = Math.max(0, Math.floor(Math.min(v[a]!, v[b]!, v[c]!) - 0.5)),
      y1 = Math.min(H - 1, Math.ceil(Math.max(v[a]!, v[b]!, v[c]!) - 0.5));
    for (let j = y0; j <= y1; j++) {
      const py = j + 0.5;
      for (let i = x0; i <= x1; i++) {
        const px = i + 0.5;
        // Barycentric weights (either winding: both triangle sides are visible).
        const wa = ((u[b]! - px) * (v[c]! - py) - (u[c]! - px) * (v[b]! - py)) / area;
        const wb = ((u[c]! - px) * (v[a]! - py) - (u[a]! - px) * (v[c]! - py)) / area;
        const wc = 1 - wa - wb;
        if (wa < 0 || wb < 0 || wc < 0) continue;
        // Perspective-correct depth: 1/z interpolates linearly in the image.
        const d = 1 / (wa / z[a]! + wb / z[b]! + wc / z[c]!);
        const p = j * W + i;
        if (d < depth[p]!) {
          depth[p] = d;
          labels[p] = triangleRegions[t]!;
        }
      }
    }
  }
  return labels;
}

/** Labels of a head posed by `p`, regions from `head.triangleRegions()`. */
export function headRegionLabels<P>(head: Head<P>, p: P, cam: Camera): Uint8Array {
  return rasterizeRegionLabels(head.pose(p), head.faces, head.triangleRegions(), cam);
}
