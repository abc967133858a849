import { describe, expect, it } from 'vitest';
import { temporalFlicker, viewConsistency, type ResidualView } from '../../lib/metrics/temporal.js';
import { cameraCentre, intrinsicsFromFov, lookAt, makeCamera } from '../../lib/raster/camera.js';
import type { Camera } from '../../lib/raster/types.js';
import { rgbImage, type RgbImage } from '../../lib/util/image.js';

const img = (w: number, h: number, values: number[]): RgbImage => {
  const im = rgbImage(w, h);
  values.forEach((v, p) => im.data.fill(v, 3 * p, 3 * p + 3)); // grey pixels
  return im;
};

describe('temporal flicker', () => {
  it('matches hand-computed residual changes over the shared foreground, per pair and per region', () => {
    const original = img(2, 2, [0.5, 0.5, 0.5, 0.5]);
    // residuals: frame0 [0.1, 0.2, 0, 0], frame1 [0.1, 0.4, 0.3, 0], frame2 [0, 0, 0, 0]
    const f0 = { edited: img(2, 2, [0.6, 0.7, 0.5, 0.5]), original, foreground: [1, 1, 1, 0], labels: [1, 2, 2, 0] };
    const f1 = { edited: img(2, 2, [0.6, 0.9, 0.8, 0.5]), original, foreground: [1, 1, 1, 1], labels: [1, 2, 1, 0] };
    const f2 = { edited: img(2, 2, [0.5, 0.5, 0.5, 0.5]), original, foreground: [1, 1, 0, 0], labels: [1, 2, 2, 0] };
    const r = temporalFlicker([f0, f1, f2]);
    // pair 0: pixels 0,1,2 → |0|,|0.2|,|0.3| → 0.5/3 ; pair 1: pixels 0,1 → 0.1, 0.4 → 0.25
    expect(r.perPair[0]).toBeCloseTo(0.5 / 3, 6);
    expect(r.perPair[1]).toBeCloseTo(0.25, 6);
    expect(r.mean).toBeCloseTo((0.5 / 3 + 0.25) / 2, 6);
    // lips (id 2) in both frames: pair 0 pixel 1 only (pixel 2 is skin in frame 1) → 0.2; pair 1 pixel 1 → 0.4
    expect(r.byRegion!.lips!.perPair[0]).toBeCloseTo(0.2, 6);
    expect(r.byRegion!.lips!.perPair[1]).toBeCloseTo(0.4, 6);
    expect(r.byRegion!.eyes!.mean).toBeNaN();
    expect(() => temporalFlicker([f0])).toThrow(/at least 2 frames/);
    expect(() => temporalFlicker([f0, { ...f1, foreground: [1] }])).toThrow(/frame 1 foreground has 1 entries/);
  });
});

/** Two cameras looking at the world plane Z = 0 from Z = 2; depth maps by ray-plane intersection. */
function planeView(
  eye: [number, number, number],
  residual: (X: number, Y: number) => number,
  occluder?: (x: number, y: number) => boolean,
): ResidualView & { camera: Camera } {
  const W = 32,
    H = 24;
  const camera = makeCamera(intrinsicsFromFov(W, H, 40), lookAt(eye, [0, 0, 0], [0, -1, 0]));
  const m = camera.worldToCamera as Float64Array;
  const C = cameraCentre(camera);
  const depth = new Float32Array(W * H);
  const original = rgbImage(W, H, [0.4, 0.4, 0.4]);
  const edited = rgbImage(W, H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const dc = [(x + 0.5 - camera.cx) / camera.fx, (y + 0.5 - camera.cy) / camera.fy, 1];
      const dw = [0, 1, 2].map((j) => m[j]! * dc[0]! + m[4 + j]! * dc[1]! + m[8 + j]! * dc[2]!);
      const t = -C[2] / dw[2]!; // camera z of the hit point (dc has z = 1)
      const X = C[0] + t * dw[0]!,
        Y = C[1] + t * dw[1]!;
      const p = y * W + x;
      const occluded = occluder?.(x, y) ?? false;
      depth[p] = occluded ? t * 0.5 : t;
      edited.data.fill(0.4 + (occluded ? 0.5 : residual(X, Y)), 3 * p, 3 * p + 3);
    }
  return { edited, original, depth, camera };
}

describe('multi-view consistency', () => {
  it("'reprojected': a per-view constant offset scores exactly the offset; occluded pixels are excluded", () => {
    const a = planeView([-0.3, 0, 2], () => 0.1);
    const b = planeView([0.3, 0, 2], () => 0.3);
    const r = viewConsistency([a, b]);
    expect(r.definition).toBe('reprojected');
    expect(r.perPair[0]).toBeCloseTo(0.2, 5);
    const full = r.support[0]!;
    expect(full).toBeGreaterThan(0.8 * 2 * 32 * 24);
    // An occluder in front of B's left half: those B pixels see it, A's points behind it are not seen by B.
    const bOcc = planeView(
      [0.3, 0, 2],
      () => 0.3,
      (x) => x < 16,
    );
    const ro = viewConsistency([a, bOcc]);
    expect(ro.perPair[0]).toBeCloseTo(0.2, 5); // the occluder's residual (0.5) never enters
    expect(ro.support[0]!).toBeLessThan(0.7 * full);
    expect(ro.support[0]!).toBeGreaterThan(0.3 * full);
  });

  it("'reprojected': a world-anchored edit is consistent up to pixel sampling, a view-anchored one is not", () => {
    const world = (X: number) => 0.2 + 0.1 * X; // varies smoothly on the surface
    const a = planeView([-0.3, 0, 2], world);
    const b = planeView([0.3, 0, 2], world);
    const consistent = viewConsistency([a, b]).mean;
    // The same function of image x in each view: the edit slides with the camera.
    const slide = (v: ResidualView) => {
      const e = rgbImage(32, 24);
      for (let p = 0; p < 32 * 24; p++) e.data.fill(0.4 + 0.2 + 0.1 * ((p % 32) / 32 - 0.5) * 4, 3 * p, 3 * p + 3);
      return { ...v, edited: e };
    };
    const sliding = viewConsistency([slide(a), slide(b)]).mean;
    expect(consistent).toBeLessThan(0.01);
    expect(sliding).toBeGreaterThan(5 * consistent);
  });

  it("'region-mean': L1 of region mean residuals, weighted by the smaller pixel count", () => {
    const original = img(2, 2, [0, 0, 0, 0]);
    const a = { edited: img(2, 2, [0.1, 0.3, 0.2, 0]), original, labels: [1, 1, 2, 0] }; // skin mean 0.2, lips 0.2
    const b = { edited: img(2, 2, [0.5, 0.6, 0.6, 0]), original, labels: [1, 2, 2, 0] }; // skin 0.5, lips 0.6
    const r = viewConsistency([a, b], { groups: { skin: [1], lips: [2] } });
    expect(r.definition).toBe('region-mean');
    // skin: |0.2−0.5| weight min(2,1)=1 ; lips: |0.2−0.6| weight min(1,2)=1
    expect(r.mean).toBeCloseTo((0.3 + 0.4) / 2, 6);
    expect(() =>
      viewConsistency([
        { edited: original, original },
        { edited: original, original },
      ]),
    ).toThrow(/needs labels/);
  });
});
