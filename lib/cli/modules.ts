/**
 * What every `gae` command shares: the error that ends a command with a message and an exit code, `--config`
 * overrides, and step printing. The commands themselves are lib/cli/<command>.ts; main.ts lists them.
 */
import type { Command } from 'commander';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * A command whose module parses its own options (a benchmark, the GPU-machine job runner, the demo): `gae
 * <name> args…` loads the module with process.argv set to `[node, 'gae <name>', ...args]`, exactly as if it
 * had been run on its own, so one file serves `gae` and an esbuild bundle of that file alike (scripts/gpu-pack.sh).
 * `--help` after the name is the module's own.
 */
export function scriptCommand(program: Command, name: string, summary: string, load: () => Promise<unknown>): Command {
  return program
    .command(name)
    .description(summary)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]', 'options of the command (see gae ' + name + ' --help)')
    .action(async (args: string[]) => {
      process.argv = [process.argv[0]!, `gae ${name}`, ...args];
      await load();
    });
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
