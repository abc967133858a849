/**
 * Real spherical harmonics up to degree 3 with 3DGS's constants, signs and basis order. SH are stored
 * coefficient-major with RGB last: sh[(n·K + k)·3 + c].
 *
 * The basis is emitted as straight-line code, one block per coefficient with its value and gradient as
 * inline expressions: arrays of basis values indexed in a loop (a runtime bound) would be indexed
 * dynamically and spill to local memory, which made the projection backward several times slower.
 */

export const shConstantsWgsl = /* wgsl */ `
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
`;

/** Declarations the expressions below use, for a unit direction `dirVar`. */
export function shLocals(dirVar: string): string {
  return `let sx = ${dirVar}.x; let sy = ${dirVar}.y; let sz = ${dirVar}.z;
  let sxx = sx * sx; let syy = sy * sy; let szz = sz * sz;`;
}

/** Y_k(x, y, z). */
export const SH_BASIS: readonly string[] = [
  'SH_C0',
  '-SH_C1 * sy',
  'SH_C1 * sz',
  '-SH_C1 * sx',
  'SH_C2_0 * sx * sy',
  'SH_C2_1 * sy * sz',
  'SH_C2_2 * (2.0 * szz - sxx - syy)',
  'SH_C2_3 * sx * sz',
  'SH_C2_4 * (sxx - syy)',
  'SH_C3_0 * sy * (3.0 * sxx - syy)',
  'SH_C3_1 * sx * sy * sz',
  'SH_C3_2 * sy * (4.0 * szz - sxx - syy)',
  'SH_C3_3 * sz * (2.0 * szz - 3.0 * sxx - 3.0 * syy)',
  'SH_C3_4 * sx * (4.0 * szz - sxx - syy)',
  'SH_C3_5 * sz * (sxx - syy)',
  'SH_C3_6 * sx * (sxx - 3.0 * syy)',
];

/** ∂Y_k/∂(x, y, z), x, y, z taken as independent (3DGS); normalisation is chained at the call site. */
export const SH_GRAD: readonly string[] = [
  'vec3f(0.0)',
  'vec3f(0.0, -SH_C1, 0.0)',
  'vec3f(0.0, 0.0, SH_C1)',
  'vec3f(-SH_C1, 0.0, 0.0)',
  'vec3f(SH_C2_0 * sy, SH_C2_0 * sx, 0.0)',
  'vec3f(0.0, SH_C2_1 * sz, SH_C2_1 * sy)',
  'vec3f(-2.0 * SH_C2_2 * sx, -2.0 * SH_C2_2 * sy, 4.0 * SH_C2_2 * sz)',
  'vec3f(SH_C2_3 * sz, 0.0, SH_C2_3 * sx)',
  'vec3f(2.0 * SH_C2_4 * sx, -2.0 * SH_C2_4 * sy, 0.0)',
  'vec3f(SH_C3_0 * 6.0 * sx * sy, SH_C3_0 * 3.0 * (sxx - syy), 0.0)',
  'vec3f(SH_C3_1 * sy * sz, SH_C3_1 * sx * sz, SH_C3_1 * sx * sy)',
  'vec3f(SH_C3_2 * -2.0 * sx * sy, SH_C3_2 * (4.0 * szz - sxx - 3.0 * syy), SH_C3_2 * 8.0 * sy * sz)',
  'vec3f(SH_C3_3 * -6.0 * sx * sz, SH_C3_3 * -6.0 * sy * sz, SH_C3_3 * (6.0 * szz - 3.0 * sxx - 3.0 * syy))',
  'vec3f(SH_C3_4 * (4.0 * szz - 3.0 * sxx - syy), SH_C3_4 * -2.0 * sx * sy, SH_C3_4 * 8.0 * sx * sz)',
  'vec3f(SH_C3_5 * 2.0 * sx * sz, SH_C3_5 * -2.0 * sy * sz, SH_C3_5 * (sxx - syy))',
  'vec3f(SH_C3_6 * 3.0 * (sxx - syy), SH_C3_6 * -6.0 * sx * sy, 0.0)',
];

/** `body(k)` for k = 0..15, each under `if (k < bound)` (bound: the active coefficient count). */
export function unrollSh(bound: string, body: (k: number) => string): string {
  let out = '';
  for (let k = 0; k < 16; k++) out += `  if (${k}u < ${bound}) {\n${body(k)}\n  }\n`;
  return out;
}
