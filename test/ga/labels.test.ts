import { describe, expect, it } from 'vitest';
import { rasterizeRegionLabels, headRegionLabels } from '../../lib/ga/labels.js';
import { intrinsicsFromFov, lookAt, makeCamera, projectPoint } from '../../lib/raster/camera.js';
import { FlameHead } from '../../lib/head/flame/head.js';
import { parseFlame } from '../../lib/head/flame/model.js';
import { tinyFlame, tinyFlamePickle } from '../../lib/ga/demo-flame.js';
import { demoAvatar, renderAvatarReference } from '../../lib/ga/demo.js';
import { Region } from '../../lib/head/regions.js';

describe('region label maps from a posed mesh', () => {
  const cam = makeCamera({ width: 20, height: 10, fx: 10, fy: 10, cx: 10, cy: 5 }, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

  it('labels exactly the pixel centres a triangle covers, and the nearer triangle wins', () => {
    // A triangle at z = 2 covering u ∈ [10, 20), v ∈ [5, 10) below its diagonal; a larger one behind at z = 4.
    const verts = [0, 0, 2, 2, 0, 2, 0, 1, 2, -4, -2, 4, 4, -2, 4, 0, 4, 4];
    const labels = rasterizeRegionLabels(verts, [0, 1, 2, 3, 4, 5], [Region.teeth, Region.skin], cam);
    for (let j = 0; j < 10; j++) {
      for (let i = 0; i < 20; i++) {
        const u = i + 0.5 - 10,
          v = j + 0.5 - 5; // camera plane coordinates × fx / z
        const inFront = u >= 0 && v >= 0 && u / 10 + v / 5 <= 1; // x = u z/fx ≤ 2 − ..., in pixels: u/10 + v/5 ≤ 1
        if (inFront) expect(labels[j * 20 + i], `pixel ${i},${j}`).toBe(Region.teeth);
        else expect([Region.skin, 0]).toContain(labels[j * 20 + i]);
      }
    }
    expect(labels.filter((l) => l === Region.skin).length).toBeGreaterThan(20);
  });

  it("agrees with where the avatar renders: labelled pixels are the head's, unlabelled ones background", () => {
    const fx = tinyFlame();
    const head = new FlameHead(parseFlame(tinyFlamePickle(fx), 'tiny.pkl', { lipRings: fx.lipRings }), { lipRings: fx.lipRings });
    const c = makeCamera(intrinsicsFromFov(40, 32, 35), lookAt([0, 0, 0.45], [0, 0, 0]));
    const p = head.neutralParams();
    const labels = headRegionLabels(head, p, c);
    const { alpha } = renderAvatarReference(head, demoAvatar(head, 2), p, c);
    // Splats reach a little past the mesh's silhouette: compare inside the mesh and well outside the avatar.
    let onMesh = 0,
      covered = 0,
      empty = 0,
      unlabelled = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i]! > 0) {
        onMesh++;
        covered += alpha[i]! > 0.5 ? 1 : 0;
      }
      if (alpha[i]! < 0.05) {
        empty++;
        unlabelled += labels[i] === 0 ? 1 : 0;
      }
    }
    expect(covered / onMesh).toBeGreaterThan(0.97);
    expect(unlabelled / empty).toBeGreaterThan(0.97);
    expect(onMesh).toBeGreaterThan(0.2 * labels.length);
    expect(empty).toBeGreaterThan(0.2 * labels.length);
    // The lips face the camera: some lips pixels, and the nose-tip pixel is skin.
    expect(labels.filter((l) => l === Region.lips).length).toBeGreaterThan(0);
    const [u, v] = projectPoint(c, head.landmarks().noseTip);
    expect(labels[Math.floor(v) * 40 + Math.floor(u)]).toBe(Region.skin);
  });
});
