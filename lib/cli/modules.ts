/**
 * How `gae` finds its subcommands. Each module owns its commands: a file lib/<module>/cli.ts exporting
 * `register(program: Command)`, which adds its subcommand(s) to the program. The CLI imports the ones that
 * exist; a subcommand whose module is not built yet is registered as a placeholder that exits with
 * "not available yet: needs lib/<module>". A module's cli.ts should import its heavy dependencies (tfjs,
 * danfo, the GPU) inside its action handlers, so `gae --help` stays fast.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { libDir } from '../util/lib-dir.js';

export interface CommandModule {
  /** Subcommand name. */
  command: string;
  summary: string;
  /** The module directory under lib/ that provides it (its cli.ts registers the command). */
  module: string;
}

export const COMMANDS: CommandModule[] = [
  { command: 'synth', summary: 'render a synthetic multi-view dataset (and GT edits) from the ICT-FaceKit head', module: 'data' },
  { command: 'train', summary: 'reconstruct an animatable Gaussian avatar from a dataset', module: 'train' },
  { command: 'edit', summary: 'edit an avatar from a text instruction (IN2N loop, WABE, adversarial loss)', module: 'edit' },
  { command: 'ablate', summary: 'run an ablation grid (methods × subjects × edits × seeds) from a config', module: 'experiments' },
  { command: 'report', summary: 'tables, figures and image grids from run directories', module: 'report' },
  { command: 'render', summary: 'render turntables and reenactments of an avatar', module: 'avatar' },
  { command: 'nerf', summary: 'reconstruct the NeRF baseline avatar (INSTA-style) from a dataset', module: 'nerf' },
];

export const LIB_DIR = libDir();

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function notAvailableMessage(m: CommandModule): string {
  return `gae ${m.command}: not available yet: needs lib/${m.module} (a lib/${m.module}/cli.ts exporting register(program))`;
}

function cliFile(m: CommandModule, libDir: string): string | undefined {
  for (const ext of ['.ts', '.js']) {
    const f = path.join(libDir, m.module, `cli${ext}`);
    if (existsSync(f)) return f;
  }
  return undefined;
}

/** Registers every command: the module's own where it exists, else a placeholder. */
export async function registerCommands(program: Command, commands: CommandModule[] = COMMANDS, libDir = LIB_DIR): Promise<void> {
  for (const m of commands) {
    const file = cliFile(m, libDir);
    if (file) {
      const mod = (await import(path.join(libDir, m.module, 'cli.js'))) as { register?: (p: Command) => void };
      if (typeof mod.register !== 'function') throw new Error(`${file}: does not export register(program)`);
      mod.register(program);
      if (!program.commands.some((c) => c.name() === m.command)) throw new Error(`${file}: register() did not add the '${m.command}' command`);
    } else {
      program
        .command(m.command)
        .description(`${m.summary} [not available yet: needs lib/${m.module}]`)
        .allowUnknownOption()
        .allowExcessArguments()
        .argument('[args...]')
        .action(() => {
          throw new CliError(notAvailableMessage(m), 2);
        });
    }
  }
}

/** A `--config <file>` of JSON overrides: {} without one; a CliError naming the file when it cannot be read. */
export async function readConfigOverrides(file: string | undefined): Promise<Record<string, unknown>> {
  if (!file) return {};
  const { promises: fs } = await import('node:fs');
  let v: unknown;
  try {
    v = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`, 2);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CliError(`${file}: expected a JSON object of config fields`, 2);
  return v as Record<string, unknown>;
}

/** An `onStep` callback that prints `step s/n` about twenty times over a run, and at its end. */
export function stepPrinter(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): (step: number, total: number) => void {
  let last = 0;
  return (s, n) => {
    if (s - last >= Math.max(1, Math.floor(n / 20)) || s === n) {
      last = s;
      write(`step ${s}/${n}`);
    }
  };
}
