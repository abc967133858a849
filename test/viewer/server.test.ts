/**
 * The viewer's server side without a browser: the wire format round trip and its errors, avatar path
 * resolution (run directories, checkpoints, .ply), the routes, and the orbit camera.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { initBoundGaussians } from '../../lib/avatar/gaussians.js';
import { writeAvatarPly } from '../../lib/avatar/io.js';
import { loadHeadModel, type HeadModel } from '../../lib/head/model.js';
import { projectPoint } from '../../lib/raster/camera.js';
import { decodeAvatar, decodeHeadModel, encodeAvatar, encodeHeadModel } from '../../lib/viewer/model-format.js';
import { fetchAvatar, fetchHeadModel, fetchJson } from '../../lib/viewer/model-fetch.js';
import { DEFAULT_ORBIT, dragOrbit, orbitCamera } from '../../lib/viewer/orbit.js';
import { ROUTES, type SequenceJson, type ViewerInfo } from '../../lib/viewer/protocol.js';
import { quantizeRgba } from '../../lib/viewer/present.js';
import { loadViewerSequence, startViewerServer } from '../../lib/viewer/server.js';
import { resolveAvatarFile } from '../../lib/avatar/load.js';

let head: HeadModel;
let dir: string;

beforeAll(async () => {
  head = await loadHeadModel();
  dir = mkdtempSync(path.join(tmpdir(), 'gae-viewer-srv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const smallAvatar = (seed: number) => {
  const g = initBoundGaussians(50, { perTriangle: 2, shDegree: 1, seed });
  for (let n = 0; n < g.count; n++) g.binding[n] = 1000 + g.binding[n]!;
  return g;
};

describe('wire format', () => {
  it('round-trips the head model and an avatar exactly', () => {
    const h = decodeHeadModel(encodeHeadModel(head), 'head.bin');
    expect(h.vertexCount).toBe(head.vertexCount);
    expect(h.expressionNames).toEqual(head.expressionNames);
    for (const k of ['neutral', 'faces', 'faceMaterial', 'uvs', 'faceUvs', 'expressions', 'identities'] as const) {
      expect(Buffer.from(h[k].buffer, h[k].byteOffset, h[k].byteLength).equals(Buffer.from(head[k].buffer, head[k].byteOffset, head[k].byteLength)), k).toBe(
        true,
      );
    }
    const g = smallAvatar(1);
    const { avatar, meta } = decodeAvatar(encodeAvatar(g, 'a.ply'), 'a.bin', head.triangleCount);
    expect(meta).toEqual({ source: 'a.ply', count: 100, shDegree: 1 });
    for (const k of ['binding', 'means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) expect(Array.from(avatar[k])).toEqual(Array.from(g[k]));
  });

  it('names the source in its errors', () => {
    const bytes = encodeAvatar(smallAvatar(2), 'a.ply');
    expect(() => decodeAvatar(bytes.subarray(0, bytes.length - 8), '/avatar/original.bin', head.triangleCount)).toThrow(
      /\/avatar\/original\.bin: .*sh is truncated/,
    );
    expect(() => decodeHeadModel(bytes, '/head.bin')).toThrow(/\/head\.bin: not a viewer head bundle \(kind is "avatar"\)/);
    expect(() => decodeAvatar(new Uint8Array(40), 'x.bin', 10)).toThrow(/x\.bin: .*bad magic/);
    expect(() => decodeAvatar(bytes, 'small-head.bin', 500)).toThrow(/small-head\.bin: binding\[0\] = 1000 is not a triangle/);
  });
});

describe('avatar paths', () => {
  it('resolves a .ply, a run directory (latest.json, else the newest step) and explains bad input', async () => {
    const ply = path.join(dir, 'a.ply');
    writeFileSync(ply, writeAvatarPly(smallAvatar(3)));
    expect(await resolveAvatarFile(ply)).toBe(ply);
    const run = path.join(dir, 'run');
    for (const s of ['step-000100', 'step-000200']) {
      mkdirSync(path.join(run, 'checkpoints', s), { recursive: true });
      writeFileSync(path.join(run, 'checkpoints', s, 'avatar.ply'), writeAvatarPly(smallAvatar(4)));
    }
    expect(await resolveAvatarFile(run)).toBe(path.join(run, 'checkpoints', 'step-000200', 'avatar.ply'));
    writeFileSync(path.join(run, 'checkpoints', 'latest.json'), JSON.stringify({ step: 100, dir: 'step-000100' }));
    expect(await resolveAvatarFile(run)).toBe(path.join(run, 'checkpoints', 'step-000100', 'avatar.ply'));
    await expect(resolveAvatarFile(path.join(dir, 'nope'))).rejects.toThrow(/nope: no such file or directory/);
    writeFileSync(path.join(dir, 'x.txt'), 'hi');
    await expect(resolveAvatarFile(path.join(dir, 'x.txt'))).rejects.toThrow(/x\.txt: not a \.ply file/);
    mkdirSync(path.join(dir, 'empty'));
    await expect(resolveAvatarFile(path.join(dir, 'empty'))).rejects.toThrow(/empty: a directory without checkpoints/);
    writeFileSync(path.join(dir, 'bad.ply'), 'ply\nformat ascii 1.0\nend_header\n');
    await expect(startViewerServer({ avatar: path.join(dir, 'bad.ply') })).rejects.toThrow(/bad\.ply/);
  });

  it('falls back to a synthetic sequence and rejects a bad --sequence by name', async () => {
    const seq = await loadViewerSequence(undefined, path.join(dir, 'a.ply'));
    expect(seq.frames.length).toBe(120);
    expect(seq.frames[0]!.expression.length).toBe(53);
    await expect(loadViewerSequence(path.join(dir, 'missing-data'), 'a.ply')).rejects.toThrow(/missing-data: no such file or directory/);
    await expect(loadViewerSequence(path.join(dir, 'empty'), 'a.ply')).rejects.toThrow(/empty\/dataset\.json: missing/);
  });
});

describe('server', () => {
  it('serves the page, bundle, head, avatars and sequence; a missing edited avatar is a clear 404', async () => {
    const ply = path.join(dir, 'srv.ply');
    const g = smallAvatar(5);
    writeFileSync(ply, writeAvatarPly(g));
    const v = await startViewerServer({ avatar: ply, width: 64, height: 48 });
    try {
      const base = v.url.replace(/\/$/, '');
      const html = await (await fetch(v.url)).text();
      expect(html).toContain('id="exprs"');
      expect(html).toContain(ROUTES.script);
      const js = await (await fetch(base + ROUTES.script)).text();
      expect(js).toContain('GaussianRasterizer');
      expect(js).not.toMatch(/from\s*["']node:/); // node builtins are stubbed out of the bundle
      const info = await fetchJson<ViewerInfo>(base + ROUTES.info);
      expect(info).toMatchObject({ width: 64, height: 48, avatars: { original: { count: 100, shDegree: 1 } } });
      expect((await fetchHeadModel(base)).triangleCount).toBe(head.triangleCount);
      expect(Array.from((await fetchAvatar('original', head, base)).avatar.means)).toEqual(Array.from(g.means));
      await expect(fetchAvatar('edited', head, base)).rejects.toThrow(/\/avatar\/edited\.bin: HTTP 404: no edited avatar/);
      expect((await fetchJson<SequenceJson>(base + ROUTES.sequence)).frames.length).toBe(120);
      expect(await (await fetch(base + ROUTES.license)).text()).toMatch(/MIT|Permission/);
    } finally {
      await v.close();
    }
  });
});

describe('orbit camera and quantisation', () => {
  it('looks at the target from the front, and orbits about it', () => {
    const cam = orbitCamera(DEFAULT_ORBIT, 200, 100);
    const [u, v, z] = projectPoint(cam, DEFAULT_ORBIT.target);
    expect(u).toBeCloseTo(100, 6);
    expect(v).toBeCloseTo(50, 6);
    expect(z).toBeCloseTo(DEFAULT_ORBIT.distance, 6);
    // A point to the subject's left (+x) appears on the image's right when seen from the front.
    expect(projectPoint(cam, [DEFAULT_ORBIT.target[0] + 0.05, DEFAULT_ORBIT.target[1], DEFAULT_ORBIT.target[2]])[0]).toBeGreaterThan(100);
    const turned = orbitCamera(dragOrbit(DEFAULT_ORBIT, -100, 0), 200, 100); // azimuth +1 rad
    expect(projectPoint(turned, DEFAULT_ORBIT.target)[0]).toBeCloseTo(100, 6);
  });

  it('quantises like the PNG writer: round(255·clamp(c))', () => {
    const out = new Uint8Array(8);
    quantizeRgba(Float32Array.from([0.5, -1, 2, 0.3, 9, 1 / 255, 0.499 / 255, 0.501 / 255, 0, 0]), out);
    expect(Array.from(out)).toEqual([128, 0, 255, 255, 1, 0, 1, 255]);
  });
});
