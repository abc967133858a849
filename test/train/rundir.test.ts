import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, appendFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RunDir } from '../../lib/train/rundir.js';

const tmp = () => mkdtemp(path.join(tmpdir(), 'gae-run-'));

describe('RunDir', () => {
  it('refuses to reopen a run under a different config, accepts the same config in any key order', async () => {
    const root = path.join(await tmp(), 'run');
    await RunDir.open(root, { a: 1, b: { c: 2 } });
    await expect(RunDir.open(root, { b: { c: 2 }, a: 1 })).resolves.toBeInstanceOf(RunDir);
    await expect(RunDir.open(root, { a: 2, b: { c: 2 } })).rejects.toThrow(/config\.json: the run directory holds a different config/);
  });

  it('keeps checkpoints atomic, finds the latest, prunes old ones', async () => {
    const run = await RunDir.open(path.join(await tmp(), 'run'), {});
    expect(await run.latestCheckpoint()).toBeNull();
    await run.saveCheckpoint(100, { 'a.json': '{"x":1}' });
    await run.saveCheckpoint(200, { 'a.json': '{"x":2}', 'b.bin': new Uint8Array([1, 2, 3]) });
    const latest = await run.latestCheckpoint();
    expect(latest?.step).toBe(200);
    expect(await readFile(path.join(latest!.dir, 'a.json'), 'utf8')).toBe('{"x":2}');
    await run.saveCheckpoint(300, { 'a.json': '{}' });
    await run.pruneCheckpoints(2);
    expect((await readdir(run.file('checkpoints'))).sort()).toEqual(['latest.json', 'step-000200', 'step-000300']);
  });

  it('reads metrics across a torn last line and truncates to a checkpoint step on resume', async () => {
    const run = await RunDir.open(path.join(await tmp(), 'run'), {});
    for (const step of [10, 20, 30]) await run.logMetrics(step, { loss: step / 10 });
    await appendFile(run.file('metrics.jsonl'), '{"step": 40, "lo');
    expect((await run.readMetrics()).map((r) => r.step)).toEqual([10, 20, 30]);
    await run.truncateMetrics(20);
    expect((await run.readMetrics()).map((r) => r.step)).toEqual([10, 20]);
  });

  it('names checkpoints/latest.json when it is truncated or malformed (issue 17 §8)', async () => {
    const run = await RunDir.open(path.join(await tmp(), 'run'), {});
    await run.saveCheckpoint(100, { 'a.json': '{}' });
    const latest = run.file('checkpoints', 'latest.json');
    await writeFile(latest, '{"step": 100, "di');
    await expect(run.latestCheckpoint()).rejects.toThrow(new RegExp(`^${latest.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot read \\(.*JSON`));
    await writeFile(latest, '{"step": "x"}');
    await expect(run.latestCheckpoint()).rejects.toThrow(`${latest}: expected { step: <integer>, dir: <folder name> }`);
    await run.close();
  });

  it('names the file when a metrics line in the middle is corrupt', async () => {
    const run = await RunDir.open(path.join(await tmp(), 'run'), {});
    await appendFile(run.file('metrics.jsonl'), '{"step":1}\nnot json\n{"step":2}\n');
    await expect(run.readMetrics()).rejects.toThrow(/metrics\.jsonl: line 2 is not JSON/);
  });
});
