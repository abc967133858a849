/**
 * Real spherical harmonics up to degree 3 with 3DGS's constants, signs and basis order. SH are stored
 * coefficient-major with RGB last: sh[(n·K + k)·3 + c].
 */

export const shWgsl = /* wgsl */ `
const SH_C0: f32 = 0.28209479177387814;
const SH_C1: f32 = 0.4886025119029199;
const SH_C2_0: f32 = 1.0925484305920792;
const SH_C2_1: f32 = -1.0925484305920792;
const SH_C2_2: f32 = 0.31539156525252005;
const SH_C2_3: f32 = -1.0925484305920792;
const SH_C2_4: f32 = 0.5462742152960396;
const SH_C3_0: f32 = -0.5900435899266435;
const SH_C3_1: f32 = 2.890611442640554;
const SH_C3_2: f32 = -0.4570457994644658;
const SH_C3_3: f32 = 0.3731763325901154;
const SH_C3_4: f32 = -0.4570457994644658;
const SH_C3_5: f32 = 1.445305721320277;
const SH_C3_6: f32 = -0.5900435899266435;

// Y_k(dir) for k < 16; entries past the active degree are left at 0.
fn shBasis(degree: u32, d: vec3f) -> array<f32, 16> {
  var Y: array<f32, 16>;
  Y[0] = SH_C0;
  if (degree >= 1u) {
    Y[1] = -SH_C1 * d.y;
    Y[2] = SH_C1 * d.z;
    Y[3] = -SH_C1 * d.x;
  }
  if (degree >= 2u) {
    let xx = d.x * d.x; let yy = d.y * d.y; let zz = d.z * d.z;
    Y[4] = SH_C2_0 * d.x * d.y;
    Y[5] = SH_C2_1 * d.y * d.z;
    Y[6] = SH_C2_2 * (2.0 * zz - xx - yy);
    Y[7] = SH_C2_3 * d.x * d.z;
    Y[8] = SH_C2_4 * (xx - yy);
    if (degree >= 3u) {
      Y[9] = SH_C3_0 * d.y * (3.0 * xx - yy);
      Y[10] = SH_C3_1 * d.x * d.y * d.z;
      Y[11] = SH_C3_2 * d.y * (4.0 * zz - xx - yy);
      Y[12] = SH_C3_3 * d.z * (2.0 * zz - 3.0 * xx - 3.0 * yy);
      Y[13] = SH_C3_4 * d.x * (4.0 * zz - xx - yy);
      Y[14] = SH_C3_5 * d.z * (xx - yy);
      Y[15] = SH_C3_6 * d.x * (xx - 3.0 * yy);
    }
  }
  return Y;
}

// ∂Y_k/∂(x, y, z), the polynomials differentiated with x, y, z independent (3DGS); the unit-norm constraint
// enters through the normalisation's Jacobian at the call site.
fn shBasisGrad(degree: u32, d: vec3f) -> array<vec3f, 16> {
  var G: array<vec3f, 16>;
  let x = d.x; let y = d.y; let z = d.z;
  if (degree >= 1u) {
    G[1] = vec3f(0.0, -SH_C1, 0.0);
    G[2] = vec3f(0.0, 0.0, SH_C1);
    G[3] = vec3f(-SH_C1, 0.0, 0.0);
  }
  if (degree >= 2u) {
    let xx = x * x; let yy = y * y; let zz = z * z;
    G[4] = vec3f(SH_C2_0 * y, SH_C2_0 * x, 0.0);
    G[5] = vec3f(0.0, SH_C2_1 * z, SH_C2_1 * y);
    G[6] = vec3f(-2.0 * SH_C2_2 * x, -2.0 * SH_C2_2 * y, 4.0 * SH_C2_2 * z);
    G[7] = vec3f(SH_C2_3 * z, 0.0, SH_C2_3 * x);
    G[8] = vec3f(2.0 * SH_C2_4 * x, -2.0 * SH_C2_4 * y, 0.0);
    if (degree >= 3u) {
      G[9] = vec3f(SH_C3_0 * 6.0 * x * y, SH_C3_0 * 3.0 * (xx - yy), 0.0);
      G[10] = vec3f(SH_C3_1 * y * z, SH_C3_1 * x * z, SH_C3_1 * x * y);
      G[11] = vec3f(SH_C3_2 * -2.0 * x * y, SH_C3_2 * (4.0 * zz - xx - 3.0 * yy), SH_C3_2 * 8.0 * y * z);
      G[12] = vec3f(SH_C3_3 * -6.0 * x * z, SH_C3_3 * -6.0 * y * z, SH_C3_3 * (6.0 * zz - 3.0 * xx - 3.0 * yy));
      G[13] = vec3f(SH_C3_4 * (4.0 * zz - 3.0 * xx - yy), SH_C3_4 * -2.0 * x * y, SH_C3_4 * 8.0 * x * z);
      G[14] = vec3f(SH_C3_5 * 2.0 * x * z, SH_C3_5 * -2.0 * y * z, SH_C3_5 * (xx - yy));
      G[15] = vec3f(SH_C3_6 * 3.0 * (xx - yy), SH_C3_6 * -6.0 * x * y, 0.0);
    }
  }
  return G;
}
`;

/**
 * Straight-line WGSL over the 16 coefficients (constant indices, so the basis arrays stay in registers;
 * a loop with a runtime bound indexes them dynamically and spills them to local memory).
 * `body(k)` is emitted under `if (k < bound)`.
 */
export function unrollSh(bound: string, body: (k: number) => string): string {
  let out = '';
  for (let k = 0; k < 16; k++) out += `  if (${k}u < ${bound}) {\n${body(k)}\n  }\n`;
  return out;
}
