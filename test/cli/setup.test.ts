/**
 * The README's set-up (issue 17): `bash scripts/setup.sh` without flags installs what `npm test` needs to pass
 * with nothing skipped (chromium, jupyter-nbconvert, ffmpeg); `--full` is still accepted. apt-get, dpkg-query
 * and id are stubbed on PATH, recording what would be installed.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

function runSetup(...args: string[]): { status: number | null; installed: string[]; stderr: string } {
  const bin = mkdtempSync(path.join(tmpdir(), 'gae-setup-'));
  const log = path.join(bin, 'apt.log');
  const stub = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  stub('id', 'echo 0');
  stub('apt-get', `echo "$@" >> ${log}`);
  // Nothing installed but a Mesa new enough for Dawn (so no backports are configured).
  stub('dpkg-query', 'case "$*" in *mesa-vulkan-drivers*) echo 25.0.0-1 ;; *) exit 1 ;; esac');
  const r = spawnSync('bash', [path.resolve('scripts/setup.sh'), '--no-npm', ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    timeout: 60_000,
  });
  const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : [];
  const installed = lines.filter((l) => l.startsWith('install')).flatMap((l) => l.split(/\s+/).filter((w) => !w.startsWith('-') && w !== 'install'));
  return { status: r.status, installed, stderr: r.stderr };
}

describe('scripts/setup.sh', () => {
  it('installs the test tools without --full, and still accepts --full', () => {
    for (const args of [[], ['--full']]) {
      const r = runSetup(...args);
      expect(r.status, r.stderr).toBe(0);
      for (const p of ['chromium', 'jupyter-nbconvert', 'python3-ipykernel', 'ffmpeg', 'libvulkan1']) expect(r.installed, `${args} ${p}`).toContain(p);
    }
    const bad = runSetup('--fast');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('setup.sh: unknown option --fast');
  });
});
