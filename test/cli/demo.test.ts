/**
 * The README's main job (issue 17): progress with rate and ETA in every phase, and the absolute path of
 * summary.md at the end. Run here with two steps of each loop (the demo's wall time is measured, not tested:
 * speed targets are not tests).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { progressPrinter } from '../../lib/cli/modules.js';
import { gaeSpawn } from '../helpers/gae-process.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'gae-demo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('progress lines', () => {
  it('print on the first call, at most every interval, and at the end, with rate and ETA', () => {
    let t = 0;
    const lines: string[] = [];
    const p = progressPrinter('[x] step', { everyMs: 5000, write: (l) => lines.push(l), now: () => t });
    for (let i = 1; i <= 10; i++) {
      t = i * 2000; // one step every 2 s
      p(i, 10);
    }
    expect(lines).toEqual([
      '[x] step 1/10',
      '[x] step 4/10  (0.50 it/s, ETA 0:12)',
      '[x] step 7/10  (0.50 it/s, ETA 0:06)',
      '[x] step 10/10  (0.50 it/s, ETA 0:00)',
    ]);
  });
});

describe('gae demo (npm run demo)', () => {
  it('shows progress in every phase and ends with the absolute path of summary.md', async () => {
    const out = path.join(tmp, 'out');
    // Asynchronous: a synchronous spawn would block the test worker's RPC for minutes.
    const r = await gaeSpawn(['demo', '--out', out, '--data', path.join(tmp, 'data'), '--iterations', '2', '--edit-iterations', '2'], {
      env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    }).done;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const summary = path.join(out, 'summary.md');
    expect(lines.at(-1)).toMatch(new RegExp(`^\\[\\d+:\\d\\d\\] done; summary: ${summary.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
    expect(path.isAbsolute(summary)).toBe(true);
    expect(readFileSync(summary, 'utf8')).toContain('## Edit: "turn his teeth gold"');
    // Every phase reports progress with a rate and an ETA.
    for (const phase of ['[synth] frames', '[recon] step', '[recon] evaluating frame', '[edit] initial pass, view', '[edit] step', '[edit] evaluating frame']) {
      expect(
        lines.some((l) => l.includes(phase) && /\(\d+(\.\d+)? \w+\/s, ETA \d+:\d\d\)/.test(l)),
        phase,
      ).toBe(true);
    }
    expect(r.stdout + r.stderr).not.toContain('TensorFlow.js in Node.js');
    expect(existsSync(path.join(out, 'recon', 'run.lock'))).toBe(false);
  }, 900_000);
});
