/** `gae nerf`: listed, and bad options exit 2 naming the option before touching the GPU. */
import { describe, expect, it } from 'vitest';
import { gaeSync } from '../helpers/gae-process.js';

const gae = (...args: string[]) => gaeSync(args, { timeout: 120_000 });

describe('gae nerf', () => {
  it('is a subcommand and names a bad preset or config field', () => {
    expect(gae('--help').stdout).toMatch(/^ {2}nerf\b/m);
    const bad = gae('nerf', '--data', 'd', '--preset', 'huge');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--preset: 'huge' is not tiny or full");
  });
});
