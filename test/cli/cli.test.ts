import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { BENCHMARKS } from '../../lib/cli/main.js';
import { scriptCommand } from '../../lib/cli/modules.js';
import { gaeSync } from '../helpers/gae-process.js';

const gae = (...args: string[]) => gaeSync(args, { timeout: 120_000 });

describe('gae CLI', () => {
  it('lists every user command, and each has --help', () => {
    const top = gae('--help');
    expect(top.status).toBe(0);
    const commands = [
      'synth',
      'train',
      'edit',
      'ablate',
      'report',
      'render',
      'demo',
      'view',
      'selfcheck',
      'notebooks',
      'edit-server',
      'gpu-job',
      'import-cells',
      'figure-dataset',
      'editor-figures',
      'viewer-screenshot',
      'bench',
      'import-ga',
      'render-ga',
      'nerf',
    ];
    for (const c of commands) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const ablate = gae('ablate', '--help');
    expect(ablate.status).toBe(0);
    expect(ablate.stdout).toContain('--concurrency <n>');
    expect(ablate.stdout).toContain('--plugin <module>');
    const report = gae('report', '--help');
    expect(report.stdout).toContain('--formats <list>');
    // A command that parses its own options shows its own help.
    const view = gae('view', '--help');
    expect(view.status).toBe(0);
    expect(view.stdout).toContain('--edited <path>');
    const bench = gae('bench', 'raster', '--help');
    expect(bench.status).toBe(0);
    expect(bench.stdout).toContain('--profile-runs <k>');
  });

  it('edit, synth and render name the bad option and exit 2 before touching the GPU', () => {
    const edit = gae('edit', '--data', 'd', '--avatar', 'a', '--edit', 'gold-teeth', '--method', 'nope');
    expect(edit.status).toBe(2);
    expect(edit.stderr).toContain('unknown method "nope" (known: ours, ours-no-wabe, ours-no-adv, ga-in2n, oracle, identity)');
    const preset = gae('edit', '--data', 'd', '--avatar', 'a', '--edit', 'gold-teeth', '--preset', 'huge');
    expect(preset.status).toBe(2);
    expect(preset.stderr).toContain('unknown preset "huge"');
    const synth = gae('synth', '--subject', 'x', '--res', '12');
    expect(synth.status).toBe(2);
    expect(synth.stderr).toContain('--res: expected WxH');
    const render = gae('render', '--avatar', 'a', '--data', 'd', '--blend', 'glass');
    expect(render.status).toBe(2);
    expect(render.stderr).toContain("--blend: 'glass' is not alpha or wabe");
  });

  it('gae bench names the benchmarks it knows when given another', () => {
    const r = gae('bench', 'nope');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`gae bench: 'nope' is not one of ${Object.keys(BENCHMARKS).join(', ')}`);
  });

  it('numbers on the command line are validated like numbers in files (issue 17 §2)', () => {
    const cases: Array<[string[], string]> = [
      [['train', '--data', 'd', '--iterations', '0'], "--iterations: '0' is below the minimum 1"],
      [['train', '--data', 'd', '--iterations', 'abc'], "--iterations: 'abc' is not an integer"],
      [['train', '--data', 'd', '--iterations', '5x'], "--iterations: '5x' is not an integer"],
      [['train', '--data', 'd', '--seed', '1.9'], "--seed: '1.9' is not an integer"],
      [['edit', '--data', 'd', '--avatar', 'a', '--edit', 'gold-teeth', '--seed', '-1'], "--seed: '-1' is below the minimum 0"],
      [['render', '--avatar', 'a', '--data', 'd', '--fps', 'fast'], "--fps: 'fast' is not a number"],
      [['ablate', 'x.json', '--concurrency', '0'], "--concurrency: '0' is below the minimum 1"],
    ];
    for (const [args, message] of cases) {
      const r = gae(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim(), args.join(' ')).toBe(message);
    }
  });

  it('a script command loads its module with the rest of the command line as its own', async () => {
    const p = new Command('gae').enablePositionalOptions();
    const seen: string[][] = [];
    scriptCommand(p, 'job', 'a job', async () => {
      seen.push(process.argv.slice(1));
    });
    const saved = process.argv;
    try {
      await p.parseAsync(['node', 'gae', 'job', 'synth', '--preset', 'tiny', '--help']);
    } finally {
      process.argv = saved;
    }
    expect(seen).toEqual([['gae job', 'synth', '--preset', 'tiny', '--help']]);
  });

  it("a script command ends with its module's exported work, and fails with it", async () => {
    const p = new Command('gae').enablePositionalOptions();
    let finished = false;
    scriptCommand(p, 'ok', 'works', async () => ({ done: new Promise<void>((r) => setTimeout(() => r(void (finished = true)), 20)) }));
    scriptCommand(p, 'bad', 'fails', async () => ({ done: Promise.reject(new Error('grid.json: no such file')) }));
    const saved = process.argv;
    try {
      await p.parseAsync(['node', 'gae', 'ok']);
      expect(finished).toBe(true);
      await expect(p.parseAsync(['node', 'gae', 'bad'])).rejects.toThrow('grid.json: no such file');
    } finally {
      process.argv = saved;
    }
  });
});
