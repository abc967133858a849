import { describe, expect, it } from 'vitest';
import { encodeGaAvatar, encodeGaSequence, gaSequence, parseGaAvatar, worldGaussians } from '../../lib/ga/avatar.js';
import { initBoundGaussians, type BoundGaussians } from '../../lib/avatar/gaussians.js';
import { FlameHead } from '../../lib/head/flame/head.js';
import { parseFlame } from '../../lib/head/flame/model.js';
import { parseNpz } from '../../lib/io/npy.js';
import { cameraFromTransforms } from '../../lib/ga/camera.js';
import { renderReference } from '../../lib/raster/reference/index.js';
import { rasterSettings } from '../../lib/raster/types.js';
import { writePly } from '../../lib/raster/ply.js';
import { Rng } from '../../lib/util/random.js';
import { tinyFlame, tinyFlamePickle } from '../../lib/ga/demo-flame.js';
import { ringCameraToWorld } from '../../lib/ga/demo-subject.js';

const fx = tinyFlame();
const model = parseFlame(tinyFlamePickle(fx), 'tiny.pkl', { lipRings: fx.lipRings });
const head = new FlameHead(model, { lipRings: fx.lipRings });

function avatar(seed: number): BoundGaussians {
  const g = initBoundGaussians(model.triangleCount, { perTriangle: 1, shDegree: 3, seed, opacity: 0.6 });
  const rng = new Rng(seed);
  for (let i = 0; i < g.means.length; i++) g.means[i] = 0.3 * rng.normal();
  for (let i = 0; i < g.sh.length; i++) g.sh[i] = g.sh[i]! + 0.3 * rng.normal();
  return g;
}

function render(g: BoundGaussians, az: number): Float32Array {
  const c2w = ringCameraToWorld(az, 0.5);
  const cam = cameraFromTransforms(
    { transform_matrix: [c2w.slice(0, 4), c2w.slice(4, 8), c2w.slice(8, 12), c2w.slice(12)], camera_angle_x: 0.6 },
    { w: 40, h: 32 },
    't.json',
    0,
  );
  const p = head.neutralParams();
  p.jaw = [0.2, 0, 0];
  p.neck = [0.1, 0.3, 0];
  const out = renderReference(worldGaussians(head, g, p), cam, rasterSettings({ shDegree: 3, background: [0, 0, 0] }));
  return Float32Array.from(out.color);
}

describe('GaussianAvatars point_cloud.ply', () => {
  it('export → import → export is byte-identical, the binding is a float as GaussianAvatars writes it, and renders match', () => {
    const g = avatar(4);
    const bytes = encodeGaAvatar(g);
    const header = new TextDecoder().decode(bytes.subarray(0, 2000)).split('end_header')[0]!;
    expect(header).toMatch(/property float nx\n/);
    expect(header).toMatch(/property float binding_0\n/);
    expect(header).toMatch(/property float f_rest_44\n/);
    const back = parseGaAvatar(bytes, 'a/point_cloud.ply', model.triangleCount);
    expect(back).toEqual(g);
    expect(encodeGaAvatar(back)).toEqual(bytes);
    for (const az of [0, 40]) {
      const a = render(g, az),
        b = render(back, az);
      expect(b).toEqual(a);
      // Not an empty picture: the head covers part of the image.
      expect(a.filter((v) => v > 0.05).length).toBeGreaterThan(100);
    }
    // A different avatar renders differently (the comparison can fail).
    expect(render(avatar(5), 0)).not.toEqual(render(g, 0));
  });

  it('names the file and the key for malformed point clouds', () => {
    const g = avatar(1);
    const bad = { ...g, binding: Int32Array.from(g.binding) };
    bad.binding[7] = model.triangleCount + 2;
    expect(() => parseGaAvatar(encodeGaAvatar(bad), 'a/point_cloud.ply', model.triangleCount)).toThrow(
      `a/point_cloud.ply: binding[7] = ${model.triangleCount + 2} is not a triangle index (0..${model.triangleCount - 1})`,
    );
    const { binding, ...rest } = g;
    const half = Float32Array.from(binding);
    half[3] = 2.5;
    expect(() => parseGaAvatar(writePly(rest, { binding_0: half }), 'b.ply', model.triangleCount)).toThrow('b.ply: binding_0[3] = 2.5 is not a triangle index');
    expect(() => parseGaAvatar(writePly(rest), 'c.ply', model.triangleCount)).toThrow('c.ply: binding_0: missing');
    // An avatar of ICT-FaceKit's or FLAME-without-teeth's mesh does not fit: out-of-range bindings say so.
    expect(() => parseGaAvatar(encodeGaAvatar(g), 'd.ply', fx.T)).toThrow(/^d\.ply: binding\[\d+\] = \d+ is not a triangle index/);
  });

  it('flame_param.npz: the training sequence round-trips, and bad shapes name the key', () => {
    const rng = new Rng(2);
    const params = [0, 1, 2].map(() => {
      const p = head.neutralParams();
      p.shape[3] = rng.normal();
      p.expr[5] = rng.normal();
      p.jaw = [rng.next(), 0, 0];
      p.eyes = [0.1, 0, 0, 0.1, 0, 0];
      return p;
    });
    params.forEach((p) => p.shape.set(params[0]!.shape));
    const staticOffset = new Float32Array(model.vertexCount * 3).map(() => 1e-3 * rng.normal());
    const bytes = encodeGaSequence({ params, staticOffset }, model.vertexCount);
    const npz = parseNpz(bytes, 'flame_param.npz');
    expect(npz.get('dynamic_offset')!.shape).toEqual([3, model.vertexCount, 3]);
    const seq = gaSequence(npz, model, 'flame_param.npz');
    expect(seq.params).toEqual(
      params.map((p) => ({
        ...p,
        rotation: [0, 0, 0],
        neck: [0, 0, 0],
        translation: [0, 0, 0],
        jaw: p.jaw.map((x) => Math.fround(x)),
        eyes: p.eyes.map((x) => Math.fround(x)),
      })),
    );
    expect(seq.staticOffset).toEqual(staticOffset);
    npz.set('eyes_pose', { dtype: 'f4', shape: [2, 6], data: new Float32Array(12) });
    expect(() => gaSequence(npz, model, 'x/flame_param.npz')).toThrow('x/flame_param.npz: eyes_pose: 2 timesteps, but expr has 3');
  });
});
