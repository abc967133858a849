/**
 * Issue 17 §12: the viewer answers only loopback Host names (DNS rebinding), and `npm run viewer` stopped by
 * its npm pid (or by losing its shell) leaves no server listening.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { initBoundGaussians } from '../../lib/avatar/gaussians.js';
import { writeAvatarPly } from '../../lib/avatar/io.js';
import { hostOf, startViewerServer } from '../../lib/viewer/server.js';

let dir: string;
let ply: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gae-viewer-host-'));
  ply = path.join(dir, 'a.ply');
  writeFileSync(ply, writeAvatarPly(initBoundGaussians(50, { perTriangle: 1, shDegree: 0, seed: 1 })));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GET / with an explicit Host header (fetch does not let one be set). */
const get = (port: number, host: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });

/** Whether something accepts connections on the port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

describe('viewer Host check', () => {
  it('answers localhost and 127.0.0.1, refuses another name with 403', async () => {
    const v = await startViewerServer({ avatar: ply, width: 64, height: 48 });
    const port = Number(new URL(v.url).port);
    try {
      expect((await get(port, `localhost:${port}`)).status).toBe(200);
      expect((await get(port, `127.0.0.1:${port}`)).status).toBe(200);
      const evil = await get(port, `rebind.attacker.example:${port}`);
      expect(evil.status).toBe(403);
      expect(evil.body).toBe(`Host "rebind.attacker.example:${port}" not allowed: open the viewer at http://localhost or http://127.0.0.1`);
      expect((await get(port, 'localhost.attacker.example')).status).toBe(403);
    } finally {
      await v.close();
    }
    expect([hostOf('[::1]:8090'), hostOf('LocalHost'), hostOf(undefined), hostOf('a:b:c')]).toEqual(['[::1]', 'localhost', null, null]);
  });
});

describe('viewer process lifetime', () => {
  /** Starts the command and resolves with the port once the viewer prints its URL. */
  const start = (cmd: string, args: string[]) =>
    new Promise<{ child: ChildProcess; port: number }>((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const onData = (d: Buffer) => {
        out += d;
        const m = /viewer: +http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) resolve({ child, port: Number(m[1]) });
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (c) => reject(new Error(`exited ${c} before listening: ${out}`)));
    });

  it('SIGTERM to the npm process stops the server', async () => {
    const { child, port } = await start('npm', ['run', 'viewer', '--', ply, '--port', '0']);
    expect(await listening(port)).toBe(true);
    child.kill('SIGTERM');
    expect(await waitFor(async () => !(await listening(port)), 10_000)).toBe(true);
  }, 120_000);

  it('a shell killed without forwarding the signal takes the server with it', async () => {
    // `; true` keeps the shell from exec-ing node, as a shell that does not forward signals would.
    const { child, port } = await start('sh', ['-c', `node bin/gae.mjs view ${ply} --port 0; true`]);
    expect(await listening(port)).toBe(true);
    child.kill('SIGKILL');
    expect(await waitFor(async () => !(await listening(port)), 10_000)).toBe(true);
  }, 120_000);
});
