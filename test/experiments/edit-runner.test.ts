import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sharedReconstructionDone } from '../../lib/experiments/edit-runner.js';
import { reconConfig, RECON_PRESETS } from '../../lib/train/config.js';

describe('the edit runner: the shared reconstruction', () => {
  const cfg = reconConfig({ ...RECON_PRESETS.tiny, name: 'recon-alice', data: 'data/synthetic/alice-tiny' });

  it('is read without its lock once finished, and refused when made under another config', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-recon-'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg));
    expect(await sharedReconstructionDone(dir, cfg)).toBe(false); // not finished: its prepare step must train it
    await writeFile(path.join(dir, 'done.json'), '{}');
    // A live process holding the run's lock (here: this one) does not stop cells from reading a finished run.
    await writeFile(path.join(dir, 'run.lock'), JSON.stringify({ pid: process.pid, host: 'elsewhere' }));
    expect(await sharedReconstructionDone(dir, cfg)).toBe(true);
    const other = reconConfig({ ...RECON_PRESETS.tiny, name: 'recon-alice', data: 'data/synthetic/alice-tiny', iterations: 7 });
    await expect(sharedReconstructionDone(dir, other)).rejects.toThrow(
      `${path.join(dir, 'config.json')}: the shared reconstruction was made with a different config`,
    );
    expect(await sharedReconstructionDone(path.join(dir, 'missing'), cfg)).toBe(false);
  });
});
