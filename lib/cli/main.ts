/**
 * The `gae` command line, the one front door: every command a user runs is a subcommand here
 * (`npx gae --help`). Each command is a file of lib/cli/; those that take commander options register them
 * (heavy dependencies — tfjs, danfo, the GPU — are imported inside their actions, so `gae --help` stays fast),
 * and the rest parse their own options when loaded (scriptCommand).
 */
import { Command } from 'commander';
import { CliError, scriptCommand } from './modules.js';
import { register as registerSynth } from './synth.js';
import { register as registerTrain } from './train.js';
import { register as registerEdit } from './edit.js';
import { register as registerAblate } from './ablate.js';
import { register as registerReport } from './report.js';
import { register as registerRender } from './render.js';
import { register as registerGa } from './ga.js';
import { register as registerNerf } from './nerf.js';
import { reportFailure, takeDebugFlag } from './errors.js';

/** The benchmarks (`gae bench <name>`), each writing JSON under results/bench/. */
export const BENCHMARKS: Record<string, { summary: string; load: () => Promise<unknown> }> = {
  raster: { summary: 'rasterizer forward and backward on the bench-N-WxH scenes', load: () => import('../../bench/raster.js') },
  avatar: { summary: 'frames per second of an animated avatar (deform + bind + rasterize)', load: () => import('../../bench/avatar.js') },
  train: { summary: "where a reconstruction step's time goes, phase by phase", load: () => import('../../bench/train-step.js') },
  edit: { summary: "an edit cell's step time (render, edit, loss, Adam, adversary) and it/s", load: () => import('../../bench/edit-cell.js') },
  discriminator: {
    summary: "where a discriminator step's time goes (phases, per-layer conv kernels, dispatch counts)",
    load: () => import('../../bench/discriminator.js'),
  },
  viewer: { summary: "the browser viewer's GPU time per frame in headless Chromium", load: () => import('../../bench/viewer.js') },
  nerf: { summary: 'NeRF avatar training it/s and render fps at 802x550', load: () => import('../../bench/nerf.js') },
  flame: { summary: 'real-time FLAME avatar rendering (FLAME posing + bind + rasterize) at 802x550', load: () => import('../../bench/flame.js') },
};

/** Commands whose module parses its own options, in the order `gae --help` lists them. */
const SCRIPT_COMMANDS: { name: string; summary: string; load: () => Promise<unknown> }[] = [
  { name: 'demo', summary: 'small end-to-end run: synthesise, reconstruct, evaluate, edit, score (results/demo/)', load: () => import('./demo.js') },
  { name: 'view', summary: 'real-time viewer of an avatar in the browser (WebGPU), served on localhost', load: () => import('./view.js') },
  {
    name: 'selfcheck',
    summary: 'check the GPU: adapter report, a prefix-sum kernel and a tfjs matMul against TypeScript',
    load: () => import('./selfcheck.js'),
  },
  { name: 'notebooks', summary: 'notebooks: `kernel` registers the tslab kernel, `run` executes and checks them', load: () => import('./notebooks.js') },
  { name: 'edit-server', summary: "serve offline 2D edits over Hugging Face's image-to-image protocol", load: () => import('./edit-server.js') },
  {
    name: 'gpu-job',
    summary: 'chain steps (synth, train, ablate, bench) on a GPU machine; bundled by scripts/gpu-pack.sh',
    load: () => import('./gpu-job.js'),
  },
  { name: 'import-cells', summary: "bring a GPU machine's finished grid cells into results/, trimmed for git", load: () => import('./import-cells.js') },
  { name: 'figure-dataset', summary: "the README's dataset figure (cameras × frames, edits, region labels)", load: () => import('./figure-dataset.js') },
  {
    name: 'editor-figures',
    summary: "docs/images/editor-*.png: the offline editor's failure modes and controls on the toy face",
    load: () => import('./editor-figures.js'),
  },
  { name: 'viewer-screenshot', summary: 'docs/viewer.png: the viewer page in headless Chromium', load: () => import('./viewer-screenshot.js') },
];

export function buildProgram(): Command {
  const program = new Command('gae')
    .description('GaussianAvatar-Editor workbench: synthetic data, avatars, text-driven editing, ablations and reports')
    .showHelpAfterError()
    .enablePositionalOptions()
    .addHelpText('after', '\nAny command takes --debug (or GAE_DEBUG=1): errors print their stack trace instead of one line.');
  registerSynth(program);
  registerTrain(program);
  registerEdit(program);
  registerAblate(program);
  registerReport(program);
  registerRender(program);
  registerGa(program);
  registerNerf(program);
  for (const c of SCRIPT_COMMANDS) scriptCommand(program, c.name, c.summary, c.load);
  program
    .command('bench')
    .description(`benchmarks, JSON under results/bench/: ${Object.keys(BENCHMARKS).join(', ')} (gae bench <name> --help)`)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument(
      '<name>',
      Object.entries(BENCHMARKS)
        .map(([k, b]) => `${k}: ${b.summary}`)
        .join('; '),
    )
    .argument('[args...]', "the benchmark's options")
    .action(async (name: string, args: string[]) => {
      const b = BENCHMARKS[name];
      if (!b) throw new CliError(`gae bench: '${name}' is not one of ${Object.keys(BENCHMARKS).join(', ')}`, 2);
      process.argv = [process.argv[0]!, `gae bench ${name}`, ...args];
      await b.load();
    });
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  const { argv: args, debug } = takeDebugFlag(argv);
  try {
    await buildProgram().parseAsync(args);
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
