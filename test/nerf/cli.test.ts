/** `gae nerf`: listed, and bad options exit 2 naming the option before touching the GPU. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const gae = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/gae.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });

describe('gae nerf', () => {
  it('is a subcommand and names a bad preset or config field', () => {
    expect(gae('--help').stdout).toMatch(/^ {2}nerf\b/m);
    const bad = gae('nerf', '--data', 'd', '--preset', 'huge');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--preset: 'huge' is not tiny or full");
  });
});
