import { describe, expect, it } from 'vitest';
import { cameraCentre, intrinsicsFromFov, lookAt, makeCamera, projectPoint, tanHalfFov } from '../../lib/raster/camera.js';

describe('camera', () => {
  const intr = intrinsicsFromFov(802, 550, 60);
  const cam = makeCamera(intr, lookAt([0.3, 0.1, 1.5], [0, 0, 0], [0, 1, 0]));

  it('puts the look-at target at the principal point and the eye at the camera centre', () => {
    const [u, v, z] = projectPoint(cam, [0, 0, 0]);
    expect(u).toBeCloseTo(401, 9);
    expect(v).toBeCloseTo(275, 9);
    expect(z).toBeCloseTo(Math.hypot(0.3, 0.1, 1.5), 9);
    const c = cameraCentre(cam);
    expect(c[0]).toBeCloseTo(0.3, 12);
    expect(c[1]).toBeCloseTo(0.1, 12);
    expect(c[2]).toBeCloseTo(1.5, 12);
  });

  it('maps world up to image up (smaller v) and world right of the view to larger u', () => {
    const straight = makeCamera(intr, lookAt([0, 0, 2], [0, 0, 0], [0, 1, 0]));
    const [, vUp] = projectPoint(straight, [0, 0.1, 0]);
    expect(vUp).toBeLessThan(275);
    // Looking down −z: camera right = forward × up = (−z) × (+y) = +x.
    const [uRight] = projectPoint(straight, [0.1, 0, 0]);
    expect(uRight).toBeGreaterThan(401);
  });

  it('derives the field of view back from the intrinsics', () => {
    const [tx, ty] = tanHalfFov(cam);
    expect(tx).toBeCloseTo(Math.tan(Math.PI / 6), 12);
    expect(ty).toBeCloseTo(275 / intr.fy, 12);
  });

  it('rejects a matrix of the wrong size', () => {
    expect(() => makeCamera(intr, [1, 0, 0])).toThrow(/16 entries/);
  });
});
