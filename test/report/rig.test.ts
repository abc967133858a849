import { describe, expect, it } from 'vitest';
import { cameraCentre, lookAt, makeCamera, projectPoint, type Vec3 } from '../../lib/raster/camera.js';
import { boxEdges, cameraRigFigure, unproject, type RigFigureCamera } from '../../lib/report/rig.js';

// Off-centre principal point and unequal focal lengths, so a wrong sign or a swapped axis shows.
const cam = (eye: Vec3) => makeCamera({ width: 80, height: 60, fx: 100, fy: 104, cx: 43, cy: 27 }, lookAt(eye, [0, 0, 0.02]));

describe('rig figure geometry', () => {
  it('unproject is the inverse of projectPoint: a pixel at depth z projects back to itself', () => {
    const c = cam([0.6, 0.1, 0.8]);
    for (const [u, v, z] of [
      [0, 0, 0.15],
      [80, 0, 0.2],
      [80, 60, 1],
      [13.5, 41.25, 0.7],
    ] as const) {
      const p = projectPoint(c, unproject(c, u, v, z));
      expect(p[0]).toBeCloseTo(u, 9);
      expect(p[1]).toBeCloseTo(v, 9);
      expect(p[2]).toBeCloseTo(z, 9);
    }
  });

  it('boxEdges: 12 axis-aligned edges, 4 along each axis, every corner on 3', () => {
    const e = boxEdges([-1, -2, -3], [1, 2, 3]);
    expect(e).toHaveLength(12);
    const along = [0, 0, 0];
    const degree = new Map<string, number>();
    for (const [a, b] of e) {
      const diff = [0, 1, 2].filter((k) => a[k] !== b[k]);
      expect(diff).toHaveLength(1);
      along[diff[0]!]!++;
      for (const p of [a, b]) degree.set(p.join(), (degree.get(p.join()) ?? 0) + 1);
    }
    expect(along).toEqual([4, 4, 4]);
    expect([...degree.values()]).toEqual(Array(8).fill(3));
  });
});

describe('cameraRigFigure', () => {
  const cams: RigFigureCamera[] = [
    { id: 'cam00', heldOut: false, camera: cam([-0.9, 0.1, 0.4]) },
    { id: 'cam01', heldOut: true, camera: cam([0, -0.1, 1]) },
    { id: 'cam02', heldOut: false, camera: cam([0.9, 0.1, 0.4]) },
  ];
  const points = Float32Array.from({ length: 3000 * 3 }, (_, i) => ((i * 37) % 101) / 1000);
  const fig = cameraRigFigure(cams, { box: { min: [-0.1, -0.2, -0.1], max: [0.1, 0.15, 0.13] }, points, maxPoints: 1000, frustumDepth: 0.2 });
  const trace = (name: string) =>
    fig.data.find((d) => d.name === name) as { x: (number | null)[]; y: (number | null)[]; z: (number | null)[]; text?: string[] };

  it('camera centres, labelled, split into training and held-out traces', () => {
    const train = trace('training cameras');
    const held = trace('held-out cameras');
    expect(train.text).toEqual(['cam00', 'cam02']);
    expect(held.text).toEqual(['cam01']);
    [cams[0]!, cams[2]!].forEach((c, i) => {
      const C = cameraCentre(c.camera);
      for (let k = 0; k < 3; k++) expect(Math.abs([train.x[i]!, train.y[i]!, train.z[i]!][k]! - C[k]!)).toBeLessThanOrEqual(5e-6);
    });
  });

  it('frusta: per camera, a closed loop through the 4 image corners at the cut depth, and 4 rays from the centre', () => {
    const f = trace('training cameras (frusta)');
    // Segments separated by nulls: [loop of 5 points], then 4 × [centre, corner], per camera.
    const segs: Vec3[][] = [[]];
    f.x.forEach((x, i) => (x === null ? segs.push([]) : segs[segs.length - 1]!.push([x, f.y[i]!, f.z[i]!])));
    expect(segs.map((s) => s.length)).toEqual([5, 2, 2, 2, 2, 5, 2, 2, 2, 2]);
    const c = cams[0]!.camera;
    const loop = segs[0]!;
    expect(loop[4]).toEqual(loop[0]);
    const want = [
      [0, 0],
      [80, 0],
      [80, 60],
      [0, 60],
    ];
    loop.slice(0, 4).forEach((p, i) => {
      const q = projectPoint(c, p);
      // Coordinates are rounded to 0.01 mm: at 0.2 m and f ≈ 100 px that moves a point by < 0.005 px.
      expect(Math.abs(q[0] - want[i]![0]!)).toBeLessThan(0.01);
      expect(Math.abs(q[1] - want[i]![1]!)).toBeLessThan(0.01);
      expect(q[2]).toBeCloseTo(0.2, 4);
    });
    const C = cameraCentre(c);
    for (const s of segs.slice(1, 5)) for (let k = 0; k < 3; k++) expect(Math.abs(s[0]![k]! - C[k]!)).toBeLessThanOrEqual(5e-6);
  });

  it('the box as 12 segments on its faces, and the points subsampled to at most maxPoints', () => {
    const b = trace('head bounding box');
    expect(b.x.filter((v) => v === null)).toHaveLength(11);
    for (const v of b.x) if (v !== null) expect([-0.1, 0.1]).toContain(v);
    for (const v of b.y) if (v !== null) expect([-0.2, 0.15]).toContain(v);
    const h = trace('head');
    expect(h.x.length).toBe(1000);
    expect(h.x[1]).toBeCloseTo(points[9]!, 5); // step 3: point 3
  });

  it('needs cameras', () => {
    expect(() => cameraRigFigure([])).toThrow('cameraRigFigure: no cameras');
  });
});
