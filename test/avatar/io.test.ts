import { describe, expect, it } from 'vitest';
import { initBoundGaussians } from '../../lib/avatar/gaussians.js';
import { readAvatarPly, writeAvatarPly } from '../../lib/avatar/io.js';
import { writePly } from '../../lib/raster/ply.js';

describe('avatar .ply', () => {
  it('round-trips local parameters and binding exactly', () => {
    const g = initBoundGaussians(5, { perTriangle: 3, shDegree: 2, seed: 4 });
    g.binding.reverse();
    const back = readAvatarPly(writeAvatarPly(g), 'a.ply', 5);
    expect(back.count).toBe(15);
    expect(back.shDegree).toBe(2);
    expect([...back.binding]).toEqual([...g.binding]);
    expect([...back.means]).toEqual([...g.means]);
    expect([...back.sh]).toEqual([...g.sh]);
    expect([...back.quats]).toEqual([...g.quats]);
  });

  it('rejects a plain 3DGS file and a binding outside the mesh, naming the file', () => {
    const g = initBoundGaussians(2, { shDegree: 0 });
    const { binding: _b, ...plain } = g;
    expect(() => readAvatarPly(writePly(plain), 'plain.ply', 2)).toThrow(/plain\.ply: missing vertex property 'binding_0'/);
    expect(() => readAvatarPly(writeAvatarPly(g), 'small.ply', 1)).toThrow(/small\.ply: binding\[1\] = 1 is not a triangle index/);
  });
});
