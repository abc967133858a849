import { describe, expect, it } from 'vitest';
import type { Head } from '../../lib/head/head.js';
import { IctHead } from '../../lib/head/ict-head.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { neutralParams } from '../../lib/head/pose.js';
import { FlameHead } from '../../lib/head/flame/head.js';
import { parseFlame } from '../../lib/head/flame/model.js';
import { loadFlameMasks } from '../../lib/head/flame/regions.js';
import { Region } from '../../lib/head/regions.js';
import { gpuFixture } from '../helpers/gpu.js';
import { tinyFlame, tinyFlamePickle } from '../../lib/ga/demo-flame.js';
import { Pickler, ndarray } from '../../lib/io/pickle-write.js';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const gpu = gpuFixture();
const fx = tinyFlame();

/** What every head must satisfy: CPU and GPU poses agree, triangles index vertices, regions cover triangles. */
async function checkHead<P>(head: Head<P>, p: P): Promise<void> {
  head.checkParams(p);
  const cpu = head.pose(p);
  expect(cpu.length).toBe(head.vertexCount * 3);
  const poser = head.gpuPoser(await gpu());
  const gpuVerts = await poser.pose([head.neutralParams(), p]);
  poser.destroy();
  let d = 0;
  for (let i = 0; i < cpu.length; i++) d = Math.max(d, Math.abs(gpuVerts[cpu.length + i]! - cpu[i]!));
  expect(d).toBeLessThan(2e-5);
  expect(head.faces.length).toBe(head.triangleCount * 3);
  expect(head.faces.reduce((a, b) => Math.max(a, b), 0)).toBeLessThan(head.vertexCount);
  expect(head.triangleRegions().length).toBe(head.triangleCount);
  for (const t of head.boundTriangles()) expect(t).toBeLessThan(head.triangleCount);
  const lm = head.landmarks();
  expect(lm.eyeLeft[0]).toBeGreaterThan(lm.eyeRight[0]); // +x is the subject's left
  expect(lm.noseTip[2]).toBeGreaterThan(lm.eyeLeft[2]);
  expect(lm.mouth[1]).toBeLessThan(lm.noseTip[1]);
}

describe('head interface', () => {
  it('ICT-FaceKit: CPU/GPU agree, regions from materials', async () => {
    const head = new IctHead(await loadHeadModel());
    const p = neutralParams();
    p.expression[3] = 0.7;
    p.jaw = [0.2, 0, 0];
    p.neck = [0.1, 0.2, 0];
    await checkHead(head, p);
    const r = head.triangleRegions();
    expect(r.includes(Region.teeth) && r.includes(Region.eyes) && r.includes(Region.tongue)).toBe(true);
  });

  it('FLAME: CPU/GPU agree; regions from geometry, or from a masks file when given', async () => {
    const model = parseFlame(tinyFlamePickle(fx), 'tiny.pkl', { lipRings: fx.lipRings });
    const head = new FlameHead(model, { lipRings: fx.lipRings });
    const p = head.neutralParams();
    p.jaw = [0.3, 0, 0];
    p.neck = [0.1, -0.2, 0.05];
    p.expr[2] = 1.5;
    p.translation = [0.01, 0.02, -0.01];
    await checkHead(head, p);
    expect(head.regionSource).toMatch(/^geometry/);
    const r = head.triangleRegions();
    for (let t = fx.T; t < model.triangleCount; t++) expect(r[t]).toBe(Region.teeth);
    // Eyes: exactly the triangles whose vertices all ride an eye joint.
    const eyeVertex = (v: number) => fx.weights[v * 5 + 3]! > 0.5 || fx.weights[v * 5 + 4]! > 0.5;
    for (let t = 0; t < fx.T; t++) {
      const all = [0, 1, 2].every((c) => eyeVertex(fx.faces[3 * t + c]!));
      expect(r[t] === Region.eyes).toBe(all);
    }
    expect(r.filter((x) => x === Region.eyes).length).toBeGreaterThan(0);
    expect(r.filter((x) => x === Region.lips).length).toBeGreaterThan(0);

    // A masks file: vertex 0's fan (the top pole) is scalp.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flame-masks-'));
    const file = path.join(dir, 'FLAME_masks.pkl');
    const ids = (a: number[]) => ndarray('<i8', [a.length], BigInt64Array.from(a.map(BigInt)));
    const scalp = [0, ...Array.from({ length: 24 }, (_, s) => 1 + s)];
    await fs.writeFile(
      file,
      Pickler.dump({
        dict: [
          ['left_eyeball', ids([])],
          ['right_eyeball', ids([])],
          ['lips', ids(fx.lipRings.upper)],
          ['scalp', ids(scalp)],
        ],
      }),
    );
    const masked = new FlameHead(model, { lipRings: fx.lipRings, masks: await loadFlameMasks(file) });
    expect(masked.regionSource).toBe('FLAME_masks.pkl');
    const rm = masked.triangleRegions();
    for (let t = 0; t < 24; t++) expect(rm[t]).toBe(Region.hair);
    expect(rm.filter((x) => x === Region.eyes).length).toBe(0);
    await fs.writeFile(file, Pickler.dump({ dict: [['lips', ids([1])]] }));
    await expect(loadFlameMasks(file)).rejects.toThrow(`${file}: left_eyeball: missing`);
  });
});
