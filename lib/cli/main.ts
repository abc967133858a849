/** The `gae` command line: `npx gae <command> --help`. */
import { Command } from 'commander';
import { registerCommands } from './modules.js';
import { reportFailure, takeDebugFlag } from './errors.js';

export async function buildProgram(): Promise<Command> {
  const program = new Command('gae')
    .description('GaussianAvatar-Editor workbench: synthetic data, avatars, text-driven editing, ablations and reports')
    .showHelpAfterError()
    .enablePositionalOptions()
    .addHelpText('after', '\nAny command takes --debug (or GAE_DEBUG=1): errors print their stack trace instead of one line.');
  await registerCommands(program);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  const { argv: args, debug } = takeDebugFlag(argv);
  try {
    const program = await buildProgram();
    await program.parseAsync(args);
  } catch (e) {
    reportFailure(e, `gae ${args[2] ?? ''}`.trim(), debug);
    // A failed command has not released the GPU, and Dawn keeps Node alive while its device is held.
    const { releaseGpu } = await import('../gpu/device.js');
    await releaseGpu().catch(() => {});
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
