/**
 * Issue 17 §5: on SIGINT/SIGTERM a run finishes its step, writes a checkpoint, says where, and exits non-zero;
 * a second signal exits at once.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { catchStopSignals, RunStopped } from '../../lib/train/stop.js';
import { LOCK_FILE } from '../../lib/train/runlock.js';
import { gpuFixture } from '../helpers/gpu.js';
import { microDatasetFixture } from '../helpers/tiny-avatar.js';
import { gaeSpawn } from '../helpers/gae-process.js';

gpuFixture();

const fx = microDatasetFixture('gae-stop-', 'stop');

describe('stop signals', () => {
  it('the first signal is a request; the second exits at once with 128 + signal', () => {
    const lines: string[] = [];
    const exits: number[] = [];
    const stop = catchStopSignals({ write: (l) => lines.push(l), exit: (c) => exits.push(c) });
    try {
      expect(stop.requested).toBeNull();
      process.emit('SIGTERM');
      expect(stop.requested).toBe('SIGTERM');
      expect(exits).toEqual([]);
      process.emit('SIGINT');
      expect(exits).toEqual([130]);
      expect(lines).toEqual([
        'SIGTERM: finishing the current step and writing a checkpoint (send it again to exit at once)',
        'SIGINT again: exiting now; the run resumes from its last checkpoint',
      ]);
    } finally {
      stop.dispose();
    }
    expect(new RunStopped('SIGTERM', 7, '/r/checkpoints/step-000007').message).toBe(
      'stopped by SIGTERM after step 7; checkpoint written to /r/checkpoints/step-000007; rerun the same command to resume',
    );
    expect(new RunStopped('SIGTERM', 7, null).exitCode).toBe(143);
  });

  it('gae train on SIGINT: checkpoints the step it stopped at, says where, exits 130 and releases the lock', async () => {
    const run = path.join(fx.root, 'run');
    const cfg = path.join(fx.root, 'cfg.json');
    // Checkpoints only at the end: without the signal handling, everything would be lost.
    await fs.writeFile(cfg, JSON.stringify({ densify: { enabled: false }, checkpoint: { every: 100000 }, eval: { framesPerSplit: 1 } }));
    const train = gaeSpawn(['train', '--data', fx.data, '--preset', 'tiny', '--iterations', '2000', '--config', cfg, '--run', run]);
    let sent = false;
    train.child.stdout.on('data', () => {
      if (!sent && /^training .*Gaussians/m.test(train.stdout)) {
        sent = true;
        train.child.kill('SIGINT');
      }
    });
    const { code, stderr: err } = await train.done;
    expect(sent).toBe(true);
    expect(code).toBe(130);
    const m = /gae train: stopped by SIGINT after step (\d+); checkpoint written to (\S+); rerun the same command to resume/.exec(err);
    expect(m, err).not.toBeNull();
    const step = Number(m![1]);
    expect(step).toBeGreaterThan(0);
    expect(step).toBeLessThan(2000);
    expect(m![2]).toBe(path.join(run, 'checkpoints', `step-${String(step).padStart(6, '0')}`));
    expect(existsSync(path.join(m![2]!, 'avatar.ply'))).toBe(true);
    expect(JSON.parse(await fs.readFile(path.join(run, 'checkpoints', 'latest.json'), 'utf8')).step).toBe(step);
    expect(err).toContain('SIGINT: finishing the current step and writing a checkpoint');
    expect(err).not.toMatch(/^\s+at /m); // no stack trace
    expect(existsSync(path.join(run, LOCK_FILE))).toBe(false);
  }, 240_000);
});
