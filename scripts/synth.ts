/**
 * Renders a synthetic multi-view dataset of the ICT-FaceKit head (layout: lib/data/dataset.ts); the same
 * command as `gae synth`.
 *   npm run data:synth -- --subject alice --preset tiny
 *   npm run data:synth -- --subject alice --preset full --frames 60 --res 802x550 --out data/synthetic/alice
 */
import { Command } from 'commander';
import { synthCommand } from '../lib/cli/synth.js';
import { CliError } from '../lib/cli/modules.js';
import { releaseGpu } from '../lib/gpu/index.js';

synthCommand(new Command('data:synth'))
  .parseAsync()
  .catch(async (e: unknown) => {
    console.error(`data:synth: ${(e as Error).message}`);
    await releaseGpu();
    process.exit(e instanceof CliError ? e.exitCode : 1);
  });
