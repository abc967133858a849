import { describe, expect, it } from 'vitest';
import { makeSequence, sampleIdentity, EXPRESSION_NAMES, framesPerKey } from '../../lib/data/sequences.js';
import { cameraRig, RIG_AIM } from '../../lib/data/cameras.js';
import { projectPoint, cameraCentre } from '../../lib/raster/camera.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { stringifyCompact, formatPath } from '../../lib/data/dataset.js';

const E = (n: (typeof EXPRESSION_NAMES)[number]) => EXPRESSION_NAMES.indexOf(n);

describe('sequences', () => {
  it('uses the model\'s expression order', async () => {
    const m = await loadHeadModel();
    expect([...EXPRESSION_NAMES]).toEqual(m.expressionNames);
  });

  it('is a pure function of its seed; other seeds and kinds differ', () => {
    const id = sampleIdentity(1);
    const a = makeSequence({ frames: 12, seed: 5, identity: id, kind: 'train' });
    const b = makeSequence({ frames: 12, seed: 5, identity: id, kind: 'train' });
    const c = makeSequence({ frames: 12, seed: 6, identity: id, kind: 'train' });
    const d = makeSequence({ frames: 12, seed: 5, identity: id, kind: 'heldout' });
    expect(a.params.map((p) => Array.from(p.expression))).toEqual(b.params.map((p) => Array.from(p.expression)));
    expect(a.params[5]!.expression).not.toEqual(c.params[5]!.expression);
    expect(a.params[5]!.expression).not.toEqual(d.params[5]!.expression);
    expect(Array.from(sampleIdentity(1))).not.toEqual(Array.from(sampleIdentity(2)));
  });

  it('starts a training sequence neutral and shows the mouth open and closed even in four frames', () => {
    const id = sampleIdentity(2);
    for (let seed = 0; seed < 20; seed++) {
      const s = makeSequence({ frames: 4, seed, identity: id, kind: 'train' });
      expect(s.categories[0]).toBe('neutral');
      expect(Math.max(...s.params[0]!.expression)).toBe(0);
      expect(s.params[0]!.neck).toEqual([0, 0, 0]);
      const jaw = s.params.map((p) => p.expression[E('jawOpen')]!);
      expect(Math.max(...jaw)).toBeGreaterThan(0.2);
      for (const p of s.params) for (const v of p.expression) expect(v >= 0 && v <= 1).toBe(true);
    }
  });

  it('covers talking, blinks, smiles and brow raises with smooth head motion in a long sequence', () => {
    const s = makeSequence({ frames: 80, seed: 3, identity: sampleIdentity(3), kind: 'train' });
    expect(framesPerKey(80)).toBe(4);
    for (const c of ['talk', 'blink', 'smile', 'brow-raise']) expect(s.categories).toContain(c);
    const blink = s.params.some((p) => p.expression[E('eyeBlink_L')]! > 0.9);
    expect(blink).toBe(true);
    // Smooth: consecutive frames' neck rotation changes by little (< 0.05 rad), but it moves overall.
    let maxStep = 0, range = 0;
    for (let i = 1; i < s.params.length; i++) maxStep = Math.max(maxStep, Math.abs(s.params[i]!.neck[1] - s.params[i - 1]!.neck[1]));
    for (const p of s.params) range = Math.max(range, Math.abs(p.neck[1]));
    expect(maxStep).toBeLessThan(0.05);
    expect(range).toBeGreaterThan(0.02);
  });
});

describe('camera rig', () => {
  it('places the cameras on an arc about 1 m away, all aimed at the face, with the held-out ones flagged', () => {
    const rig = cameraRig({ count: 16, width: 802, height: 550, heldOut: [3, 8, 12], seed: 1 });
    expect(rig.map((c) => c.heldOut).filter(Boolean).length).toBe(3);
    for (const c of rig) {
      const [u, v, z] = projectPoint(c.camera, RIG_AIM);
      expect(Math.abs(u - 401)).toBeLessThan(30);
      expect(Math.abs(v - 275)).toBeLessThan(30);
      expect(z).toBeGreaterThan(0.95);
      expect(z).toBeLessThan(1.05);
      expect(c.camera.fx).toBeGreaterThan(2400);
    }
    // Azimuths ascend from the subject's right (−x) to left (+x).
    const xs = rig.map((c) => cameraCentre(c.camera)[0]);
    for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThan(xs[i - 1]!);
    expect(() => cameraRig({ count: 4, width: 10, height: 10, heldOut: [4], seed: 1 })).toThrow(/held-out camera 4 is not in 0..3/);
  });
});

describe('transforms file helpers', () => {
  it('formats zod paths and writes compact JSON that parses back', () => {
    expect(formatPath(['frames', 3, 'fx'])).toBe('frames[3].fx');
    expect(formatPath([])).toBe('(root)');
    const v = { a: [1, 2.5, -3], b: [{ c: 'x', d: [0.1] }], e: {} };
    const s = stringifyCompact(v);
    expect(JSON.parse(s)).toEqual(v);
    expect(s).toContain('"a": [1, 2.5, -3]');
  });
});
