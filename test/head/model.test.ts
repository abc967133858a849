import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadHeadModel, defaultModelDir, MATERIALS, Material } from '../../lib/head/model.js';

describe('loadHeadModel (the real ICT-FaceKit data)', () => {
  it('loads every file with the sizes model.json gives', async () => {
    const m = await loadHeadModel();
    expect(m.vertexCount).toBe(26719);
    expect(m.triangleCount).toBe(52220);
    expect(m.neutral.length).toBe(26719 * 3);
    expect(m.expressions.length).toBe(53 * 26719 * 3);
    expect(m.identities.length).toBe(20 * 26719 * 3);
    expect(m.expressionNames[26]).toBe('jawOpen');
    // Axes: y up (top of the head above the chin), z toward the face (nose tip is the frontmost face point).
    let top = -Infinity,
      noseZ = -Infinity,
      noseY = 0;
    for (let v = 0; v < m.vertexCount; v++) top = Math.max(top, m.neutral[3 * v + 1]!);
    for (let t = 0; t < m.triangleCount; t++) {
      if (m.faceMaterial[t] !== Material.M_Face) continue;
      const v = m.faces[3 * t]!;
      if (m.neutral[3 * v + 2]! > noseZ) {
        noseZ = m.neutral[3 * v + 2]!;
        noseY = m.neutral[3 * v + 1]!;
      }
    }
    expect(top).toBeGreaterThan(0.12); // metres, not centimetres
    expect(top).toBeLessThan(0.2);
    expect(noseZ).toBeGreaterThan(0.1);
    expect(Math.abs(noseY)).toBeLessThan(0.03); // the nose tip is near the origin's height
  });
});

describe('loadHeadModel (broken copies)', () => {
  let dir: string;
  const src = defaultModelDir();
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gae-head-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function copyModel(to: string) {
    await fs.mkdir(to, { recursive: true });
    for (const f of await fs.readdir(src)) await fs.copyFile(path.join(src, f), path.join(to, f));
  }

  it('names a missing file', async () => {
    const d = path.join(dir, 'missing');
    await copyModel(d);
    await fs.rm(path.join(d, 'faces.u32.gz'));
    await expect(loadHeadModel(d)).rejects.toThrow(/faces\.u32\(\.gz\): missing/);
  });

  it('names a truncated file with its expected and actual size', async () => {
    const d = path.join(dir, 'truncated');
    await copyModel(d);
    // A raw (uncompressed) neutral.f32 that lost its last vertex; the .gz is removed so the raw one is read.
    await fs.rm(path.join(d, 'neutral.f32.gz'));
    await fs.writeFile(path.join(d, 'neutral.f32'), new Uint8Array(26718 * 12));
    await expect(loadHeadModel(d)).rejects.toThrow(/neutral\.f32: expected 320628 bytes .* got 320616 \(truncated\)/);
  });

  it('names a corrupt gzip file', async () => {
    const d = path.join(dir, 'corrupt');
    await copyModel(d);
    const b = await fs.readFile(path.join(d, 'uvs.f32.gz'));
    await fs.writeFile(path.join(d, 'uvs.f32.gz'), b.subarray(0, b.length >> 1));
    await expect(loadHeadModel(d)).rejects.toThrow(/uvs\.f32\.gz: corrupt or truncated gzip/);
  });

  it('names a gzip file whose content has the wrong size', async () => {
    const d = path.join(dir, 'short-gz');
    await copyModel(d);
    await fs.writeFile(path.join(d, 'face_material.u8.gz'), gzipSync(new Uint8Array(100)));
    await expect(loadHeadModel(d)).rejects.toThrow(/face_material\.u8\.gz: expected 52220 bytes .* got 100/);
  });

  it('names a bad model.json field', async () => {
    const d = path.join(dir, 'badjson');
    await copyModel(d);
    const j = JSON.parse(await fs.readFile(path.join(d, 'model.json'), 'utf8'));
    j.vertex_count = 'many';
    await fs.writeFile(path.join(d, 'model.json'), JSON.stringify(j));
    await expect(loadHeadModel(d)).rejects.toThrow(/model\.json: vertex_count: .*expected number/);
  });

  it('knows all materials', () => {
    expect(MATERIALS.length).toBe(12);
  });
});
