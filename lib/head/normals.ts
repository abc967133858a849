/** Smooth vertex normals of a posed mesh: area-weighted sums of the adjacent triangles' normals. */

export function vertexNormals(verts: ArrayLike<number>, faces: ArrayLike<number>, out?: Float32Array): Float32Array {
  const V = Math.floor(verts.length / 3);
  const acc = new Float64Array(V * 3);
  for (let t = 0; t < faces.length; t += 3) {
    const a = 3 * faces[t]!,
      b = 3 * faces[t + 1]!,
      c = 3 * faces[t + 2]!;
    const ex = verts[b]! - verts[a]!,
      ey = verts[b + 1]! - verts[a + 1]!,
      ez = verts[b + 2]! - verts[a + 2]!;
    const fx = verts[c]! - verts[a]!,
      fy = verts[c + 1]! - verts[a + 1]!,
      fz = verts[c + 2]! - verts[a + 2]!;
    // |e × f| = twice the area, so summing the raw cross products weights by area.
    const nx = ey * fz - ez * fy,
      ny = ez * fx - ex * fz,
      nz = ex * fy - ey * fx;
    for (const i of [a, b, c]) {
      acc[i] += nx;
      acc[i + 1] += ny;
      acc[i + 2] += nz;
    }
  }
  const n = out ?? new Float32Array(V * 3);
  for (let v = 0; v < V; v++) {
    const x = acc[3 * v]!,
      y = acc[3 * v + 1]!,
      z = acc[3 * v + 2]!;
    const l = Math.hypot(x, y, z);
    if (l > 0) {
      n[3 * v] = x / l;
      n[3 * v + 1] = y / l;
      n[3 * v + 2] = z / l;
    } else {
      n[3 * v] = 0;
      n[3 * v + 1] = 0;
      n[3 * v + 2] = 1;
    }
  }
  return n;
}
