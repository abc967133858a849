/**
 * A reconstruction is scored under the blending it was trained with. Until 2026-12-08 a WABE reconstruction was
 * trained under WABE and scored under alpha blending, which measured the change of blending, not the fit
 * (results/table1/README.md). `reevaluate` rescores a finished run in place.
 */
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { reconConfig } from '../../lib/train/config.js';
import { runReconstruction } from '../../lib/train/recon.js';
import { evaluateAvatar, type SplitScores } from '../../lib/train/evaluate.js';
import { AvatarSession } from '../../lib/avatar/session.js';
import { loadAvatar } from '../../lib/avatar/load.js';
import { microDatasetFixture } from '../helpers/tiny-avatar.js';

const fx = microDatasetFixture('gae-recon-blend-', 'blend');

describe('reconstruction evaluation blending', () => {
  it('scores a WABE reconstruction under WABE, records it, and rescores a finished run with reevaluate', async () => {
    const runDir = path.join(fx.root, 'run-wabe');
    const cfg = reconConfig({
      data: fx.data,
      iterations: 6,
      log: { every: 3 },
      checkpoint: { every: 6, keep: 1 },
      wabe: { enabled: true },
      eval: { splits: ['val', 'test'], framesPerSplit: 2 },
    });
    const first = await runReconstruction(cfg, { runDir });
    expect(first.eval.map((e) => e.split)).toEqual(['val', 'test']);
    const stored = JSON.parse(await fs.readFile(path.join(runDir, 'eval.json'), 'utf8')) as { blend: { blend: string; wabe: { beta: number } } };
    expect(stored.blend.blend).toBe('wabe');
    expect(stored.blend.wabe.beta).toBe(6);

    // The stored scores are those of the avatar under WABE, and differ from the same avatar under alpha blending.
    const session = await AvatarSession.open(fx.data, await loadAvatar(runDir));
    const score = (blend: 'alpha' | 'wabe') =>
      evaluateAvatar(session, {
        splits: ['val', 'test'],
        framesPerSplit: 2,
        background: session.background(cfg),
        shDegree: cfg.shDegree,
        blend: { blend, wabe: cfg.wabe },
      });
    const psnrs = (s: SplitScores[]) => s.map((e) => e.psnr);
    const [underWabe, underAlpha] = [await score('wabe'), await score('alpha')];
    session.dispose();
    expect(psnrs(first.eval)).toEqual(psnrs(underWabe));
    for (const [w, a] of psnrs(underWabe).map((w, i) => [w, psnrs(underAlpha)[i]!])) expect(Math.abs(w! - a!)).toBeGreaterThan(1e-4); // renders are deterministic: equal scores would mean equal images

    // A finished run answers from done.json; with reevaluate it is scored again and both files are rewritten.
    const donePath = path.join(runDir, 'done.json');
    const done = JSON.parse(await fs.readFile(donePath, 'utf8')) as { eval: SplitScores[] };
    for (const e of done.eval) e.psnr = -1;
    await fs.writeFile(donePath, JSON.stringify(done));
    expect(psnrs((await runReconstruction(cfg, { runDir })).eval)).toEqual([-1, -1]);
    const again = await runReconstruction(cfg, { runDir, reevaluate: true });
    expect(psnrs(again.eval)).toEqual(psnrs(underWabe));
    expect(again.train.steps).toBe(6);
    const rewritten = JSON.parse(await fs.readFile(donePath, 'utf8')) as { eval: SplitScores[] };
    expect(psnrs(rewritten.eval)).toEqual(psnrs(underWabe));
  }, 300_000);
});
