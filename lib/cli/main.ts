/** The `gae` command line: `npx gae <command> --help`. */
import { Command } from 'commander';
import { CliError, registerCommands } from './modules.js';

export async function buildProgram(): Promise<Command> {
  const program = new Command('gae')
    .description('GaussianAvatar-Editor workbench: synthetic data, avatars, text-driven editing, ablations and reports')
    .showHelpAfterError()
    .enablePositionalOptions();
  await registerCommands(program);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    const program = await buildProgram();
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    throw e;
  }
}

// Run when executed as a script (tsx lib/cli/main.ts); bin/gae.mjs and tests call main() themselves.
const invoked = process.argv[1] ?? '';
if (/[\\/]lib[\\/]cli[\\/]main\.(ts|js)$/.test(invoked)) {
  // Not a top-level await: notebooks (tslab) load lib/ as CommonJS, where that is a syntax error.
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
