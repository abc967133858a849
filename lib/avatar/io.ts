/**
 * Avatar files. An avatar is stored as GaussianAvatars stores it: a 3DGS `.ply` whose x/y/z, scale_* and
 * rot_* hold the *local* (per-triangle) parameters, plus an integer `binding_0` vertex property naming each
 * Gaussian's triangle. `exportWorldPly` bakes one pose into a plain 3DGS `.ply` for any splat viewer.
 */
import { assertFiniteGaussians } from '../util/finite.js';
import { readPly, writePly } from '../raster/ply.js';
import type { Gaussians } from '../raster/types.js';
import type { BoundGaussians } from './gaussians.js';
import { assertEveryTriangleBound } from './densify.js';

const BINDING = 'binding_0';

export function writeAvatarPly(g: BoundGaussians): Uint8Array {
  const { binding, ...rest } = g;
  return writePly(rest as Gaussians, { [BINDING]: binding });
}

/**
 * Reads an avatar `.ply`; `triangleCount` validates the binding against the head mesh it belongs to, and
 * `mustBeBound` (default: every triangle) lists the triangles that must each keep a Gaussian.
 */
export function readAvatarPly(bytes: Uint8Array, name: string, triangleCount: number, mustBeBound?: ArrayLike<number>): BoundGaussians {
  const { gaussians, extra } = readPly(bytes, name);
  const b = extra[BINDING] ?? extra['binding'];
  if (!b) throw new Error(`${name}: missing vertex property '${BINDING}' (an avatar .ply binds each Gaussian to a triangle)`);
  const binding = b instanceof Int32Array ? b : Int32Array.from(b, (v) => Math.round(v));
  const g: BoundGaussians = { ...gaussians, binding };
  assertFiniteGaussians(g, name);
  assertEveryTriangleBound(g, triangleCount, name, mustBeBound);
  return g;
}

/** World-space Gaussians of one pose (from `bindToWorld` results downloaded to the CPU) as a plain 3DGS .ply. */
export function exportWorldPly(world: Gaussians): Uint8Array {
  return writePly(world);
}
