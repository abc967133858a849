/** Seeded 3D value noise for the procedural textures (hash = lowbias32, the workbench's integer hash). */
import { lowbias32 } from '../util/random.js';

/** Hash of an integer lattice point to [0, 1). */
function lattice(seed: number, x: number, y: number, z: number): number {
  let h = lowbias32(seed ^ Math.imul(x, 0x27d4eb2d));
  h = lowbias32(h ^ Math.imul(y, 0x165667b1));
  h = lowbias32(h ^ Math.imul(z, 0x6c8e9cf5));
  return h / 4294967296;
}

const fade = (t: number) => t * t * t * (t * (t * 6 - 15) + 10);

/** Smooth value noise in [0, 1) at a point given in lattice units. */
export function valueNoise3(seed: number, x: number, y: number, z: number): number {
  const xi = Math.floor(x),
    yi = Math.floor(y),
    zi = Math.floor(z);
  const fx = fade(x - xi),
    fy = fade(y - yi),
    fz = fade(z - zi);
  let acc = 0;
  for (let dz = 0; dz < 2; dz++) {
    const wz = dz ? fz : 1 - fz;
    for (let dy = 0; dy < 2; dy++) {
      const wy = dy ? fy : 1 - fy;
      for (let dx = 0; dx < 2; dx++) {
        const wx = dx ? fx : 1 - fx;
        acc += wx * wy * wz * lattice(seed, xi + dx, yi + dy, zi + dz);
      }
    }
  }
  return acc;
}

/** Fractal sum of `octaves` value noises, centred: roughly in [−0.5, 0.5]. `freq` in 1/metre for metre inputs. */
export function fbm3(seed: number, x: number, y: number, z: number, freq: number, octaves = 4, gain = 0.5): number {
  let a = 1,
    f = freq,
    sum = 0,
    norm = 0;
  for (let o = 0; o < octaves; o++) {
    sum += a * (valueNoise3(seed + o * 1013, x * f, y * f, z * f) - 0.5);
    norm += a;
    a *= gain;
    f *= 2.03;
  }
  return sum / norm;
}

/** Cellular "spots": distance (lattice units) from a point to the nearest jittered feature point. */
export function cellDistance(seed: number, x: number, y: number, z: number): number {
  const xi = Math.floor(x),
    yi = Math.floor(y),
    zi = Math.floor(z);
  let best = Infinity;
  for (let dz = -1; dz <= 1; dz++)
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const cx = xi + dx,
          cy = yi + dy,
          cz = zi + dz;
        const px = cx + lattice(seed, cx, cy, cz),
          py = cy + lattice(seed + 1, cx, cy, cz),
          pz = cz + lattice(seed + 2, cx, cy, cz);
        const d = (px - x) ** 2 + (py - y) ** 2 + (pz - z) ** 2;
        if (d < best) best = d;
      }
  return Math.sqrt(best);
}
