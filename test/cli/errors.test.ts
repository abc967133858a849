/**
 * Issue 17 §8–§9: runtime errors end a command with one line naming the file (stack traces behind --debug),
 * and non-finite avatar parameters are refused on load and after an optimiser step.
 */
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBoundGaussians } from '../../lib/avatar/gaussians.js';
import { writeAvatarPly } from '../../lib/avatar/io.js';
import { loadAvatar } from '../../lib/avatar/load.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { assertFiniteVars, NonFiniteError } from '../../lib/train/finite.js';
import { describeFailure } from '../../lib/cli/errors.js';
import { writeFileAtomic } from '../../lib/util/atomic.js';
import { gpuFixture } from '../helpers/gpu.js';
import { microDatasetFixture } from '../helpers/tiny-avatar.js';
import { gaeSync } from '../helpers/gae-process.js';

gpuFixture();
const gae = (...args: string[]) => gaeSync(args, { timeout: 180_000 });
/** stderr without Dawn's adapter-limit notices. */
const errLines = (s: string) => s.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: '));

const fx = microDatasetFixture('gae-errors-', 'err');

describe('one-line errors (§8)', () => {
  it('a truncated checkpoints/latest.json: one line naming it, exit 1; --debug adds the stack trace', async () => {
    const run = path.join(fx.root, 'torn');
    await fs.mkdir(path.join(run, 'checkpoints'), { recursive: true });
    const latest = path.join(run, 'checkpoints', 'latest.json');
    await fs.writeFile(latest, '{"step": 100, "di');
    const r = gae('render', '--avatar', run, '--data', fx.data, '--out', path.join(fx.root, 'out'));
    expect(r.status).toBe(1);
    const lines = errLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^gae render: ${latest.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot read \\(.*JSON.*\\) \\(--debug for the stack trace\\)$`),
    );
    const d = gae('render', '--debug', '--avatar', run, '--data', fx.data, '--out', path.join(fx.root, 'out'));
    expect(d.status).toBe(1);
    expect(d.stderr).toContain(`${latest}: cannot read`);
    expect(d.stderr).toMatch(/\n\s+at .*load\.ts/);
  }, 180_000);

  it('a failed write names its file (ENOSPC and the like)', async () => {
    const target = path.join(fx.root, 'occupied');
    await fs.mkdir(path.join(target, 'x'), { recursive: true }); // a non-empty directory where the file should go
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow(
      new RegExp(`^${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot write \\(E[A-Z]+\\)$`),
    );
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(describeFailure(new Error(`/r/metrics.jsonl: cannot write (${enospc.message})`, { cause: enospc }), 'gae train', false).text).toBe(
      'gae train: /r/metrics.jsonl: cannot write (ENOSPC: no space left on device, write) (--debug for the stack trace)',
    );
  });
});

describe('non-finite parameters (§9)', () => {
  it('an avatar with a NaN position is refused on load, naming the file, the field and the Gaussian; gae render exits 1', async () => {
    const head = await loadHeadModel();
    const g = initBoundGaussians(head.triangleCount, { perTriangle: 1, shDegree: 0, seed: 1 });
    g.means[3 * 5 + 1] = NaN;
    const file = path.join(fx.root, 'nan.ply');
    await fs.writeFile(file, writeAvatarPly(g));
    await expect(loadAvatar(file)).rejects.toThrow(`${file}: means of Gaussian 5 is NaN (non-finite parameters are refused)`);
    const r = gae('render', '--avatar', file, '--data', fx.data, '--out', path.join(fx.root, 'nan-out'));
    expect(r.status).toBe(1);
    expect(errLines(r.stderr)).toEqual([`gae render: ${file}: means of Gaussian 5 is NaN (non-finite parameters are refused) (--debug for the stack trace)`]);
    await expect(fs.stat(path.join(fx.root, 'nan-out.gif'))).rejects.toThrow(/ENOENT/);
  }, 180_000);

  it("after an optimiser step: names the step, the parameter groups and their counts, and what the step's gradients were", async () => {
    await tf.setBackend('cpu');
    const vars = {
      means: tf.variable(tf.tensor2d([[0, 1, 2]])),
      quats: tf.variable(tf.tensor2d([[1, 0, 0, Infinity]])),
      sh: tf.variable(tf.tensor1d([NaN, 1, NaN])),
    };
    await expect(assertFiniteVars(vars, 7, '/runs/x')).rejects.toThrow(NonFiniteError);
    await expect(assertFiniteVars(vars, 7, '/runs/x')).rejects.toThrow(
      '/runs/x: step 7: non-finite values in parameter groups quats (1 of 4), sh (2 of 3); lower the learning rates or resume from an earlier checkpoint',
    );
    // Finite gradients: the update made the values non-finite; the largest gradient and the view are named.
    const finite = { means: tf.tensor2d([[0.5, -3, 1]]), sh: tf.tensor1d([2, 0, -250]) };
    await expect(assertFiniteVars(vars, 7, '/runs/x', { grads: finite, view: 'train/t3/cam05' })).rejects.toThrow(
      '/runs/x: step 7: non-finite values in parameter groups quats (1 of 4), sh (2 of 3); ' +
        "this step's gradients were finite (largest |g| 2.50e+2, sh): the update made them non-finite; view train/t3/cam05; lower the",
    );
    // Non-finite gradients point at the backward or the loss instead.
    const nonFinite = { means: tf.tensor2d([[0, NaN, Infinity]]), sh: tf.tensor1d([1, 2, 3]) };
    await expect(assertFiniteVars(vars, 7, '/runs/x', { grads: nonFinite })).rejects.toThrow(
      "non-finite values in parameter groups quats (1 of 4), sh (2 of 3); this step's gradients were already non-finite in means (2 of 3); lower",
    );
    tf.dispose([...Object.values(finite), ...Object.values(nonFinite)]);
    vars.quats.assign(tf.tensor2d([[1, 0, 0, 0]]));
    vars.sh.assign(tf.tensor1d([0.5, 1, 0.5]));
    await expect(assertFiniteVars(vars, 8, '/runs/x')).resolves.toBeUndefined();
    tf.dispose(Object.values(vars));
  });
});
