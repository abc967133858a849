/**
 * The `gae` commands a GPU machine needs (synth, train, edit, ablate), in one entry that esbuild can
 * bundle (scripts/gpu-pack.sh): the machine has no node_modules, so the edit runner is imported statically.
 * `gae ablate --parallel K` starts more of this same bundle for its cells.
 */
import { Command } from 'commander';
import { register as registerSynth } from '../lib/cli/synth.js';
import { register as registerTrain } from '../lib/cli/train.js';
import { register as registerEdit } from '../lib/cli/edit.js';
import { register as registerAblate } from '../lib/cli/ablate.js';
import { CliError } from '../lib/cli/modules.js';
import '../lib/experiments/edit-runner.js';

const program = new Command('gae').enablePositionalOptions();
for (const r of [registerSynth, registerTrain, registerEdit, registerAblate]) r(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CliError) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = e.exitCode;
  } else throw e;
}
