import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { CliError, COMMANDS, LIB_DIR, notAvailableMessage, registerCommands } from '../../lib/cli/modules.js';

const gae = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/gae.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });

describe('gae CLI', () => {
  it('lists every subcommand, and each has --help', () => {
    const top = gae('--help');
    expect(top.status).toBe(0);
    for (const c of ['synth', 'train', 'edit', 'ablate', 'report', 'render']) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const ablate = gae('ablate', '--help');
    expect(ablate.status).toBe(0);
    expect(ablate.stdout).toContain('--concurrency <n>');
    expect(ablate.stdout).toContain('--plugin <module>');
    const report = gae('report', '--help');
    expect(report.stdout).toContain('--formats <list>');
  });

  it('edit, synth and render name the bad option and exit 2 before touching the GPU', () => {
    const edit = gae('edit', '--data', 'd', '--avatar', 'a', '--edit', 'gold-teeth', '--method', 'nope');
    expect(edit.status).toBe(2);
    expect(edit.stderr).toContain('unknown method "nope" (known: ours, ours-no-wabe, ours-no-adv, ga-in2n)');
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

  it('unbuilt subcommands exit 2 naming the module they need', () => {
    const unbuilt = COMMANDS.filter((c) => !existsSync(path.join(LIB_DIR, c.module, 'cli.ts')) && !existsSync(path.join(LIB_DIR, c.module, 'cli.js')));
    for (const c of unbuilt) {
      const r = gae(c.command, 'whatever', '--flag');
      expect(r.status, c.command).toBe(2);
      expect(r.stderr.trim()).toBe(notAvailableMessage(c));
      expect(r.stderr).toContain(`not available yet: needs lib/${c.module}`);
      expect(gae(c.command, '--help').status).toBe(0);
    }
  });

  it("registers a module's own command when its cli.ts exists, and refuses one that does not add it", async () => {
    const lib = await mkdtemp(path.join(tmpdir(), 'gae-lib-'));
    await mkdir(path.join(lib, 'good'));
    await writeFile(path.join(lib, 'good', 'cli.js'), "export function register(p) { p.command('hello').action(() => { globalThis.__hello = 42; }); }\n");
    await mkdir(path.join(lib, 'bad'));
    await writeFile(path.join(lib, 'bad', 'cli.js'), 'export function register(p) {}\n');
    const p = new Command('gae');
    await registerCommands(p, [{ command: 'hello', summary: 's', module: 'good' }, { command: 'later', summary: 'later', module: 'missing' }], lib);
    await p.parseAsync(['node', 'gae', 'hello']);
    expect((globalThis as Record<string, unknown>).__hello).toBe(42);
    await expect(p.parseAsync(['node', 'gae', 'later'])).rejects.toThrow(CliError);
    await expect(registerCommands(new Command('gae'), [{ command: 'x', summary: 's', module: 'bad' }], lib)).rejects.toThrow(/register\(\) did not add the 'x' command/);
  });
});
