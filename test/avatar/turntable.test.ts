import { describe, expect, it } from 'vitest';
import { turntableCameras } from '../../lib/avatar/turntable.js';
import { cameraCentre, lookAt, makeCamera, projectPoint } from '../../lib/raster/camera.js';
import { RIG_TARGET } from '../../lib/data/cameras.js';

describe('turntable cameras', () => {
  const like = makeCamera({ width: 80, height: 60, fx: 100, fy: 100, cx: 40, cy: 30 }, lookAt([0.3, 0.1, 0.9], [...RIG_TARGET]));
  it('orbit the rig target at the template camera distance, starting at the face, all looking at the target', () => {
    const cams = turntableCameras(like, 4, 360, 0);
    const d0 = Math.hypot(...cameraCentre(like).map((c, i) => c - RIG_TARGET[i]!));
    const azimuths = cams.map((c) => {
      const p = cameraCentre(c);
      expect(Math.hypot(p[0] - RIG_TARGET[0], p[1] - RIG_TARGET[1], p[2] - RIG_TARGET[2])).toBeCloseTo(d0, 9);
      const [u, v] = projectPoint(c, RIG_TARGET);
      expect(u).toBeCloseTo(40, 6); // the target projects to the principal point
      expect(v).toBeCloseTo(30, 6);
      return (Math.atan2(p[0] - RIG_TARGET[0], p[2] - RIG_TARGET[2]) * 180) / Math.PI;
    });
    expect(azimuths.map((a) => Math.round(a) + 0)).toEqual([0, 90, 180, -90]);
    expect(() => turntableCameras(like, 0)).toThrow(/frames must be ≥ 1/);
  });
});
