/**
 * `gae gpu-job`: one entry point for runs on a GPU machine. `bash scripts/gpu-pack.sh lib/cli/gpu-job.ts`
 * bundles this file with esbuild into .gpu/app/gpu-job.mjs, so that it travels without node_modules: every
 * step imports lib/ statically. Steps run in order:
 *
 *   node .gpu/app/gpu-job.mjs synth --preset full --frames 60 --out data/synthetic/alice \
 *                    train --data data/synthetic/alice --preset full --iterations 6000 --run runs/recon \
 *                    bench-avatar --ply runs/recon/... --out bench.json
 *
 * Each step prints its timings; `--budget S` on train stops training after S seconds of wall time
 * (the run stays resumable and evaluation still runs).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describeAdapter } from '../gpu/index.js';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { synthConfig, writeDataset } from '../data/writer.js';
import { reconConfig, RECON_PRESETS } from '../train/config.js';
import { AvatarSession } from '../avatar/session.js';
import { runReconstruction } from '../train/recon.js';
import { evaluateAvatar } from '../train/evaluate.js';
import { RunDir } from '../train/rundir.js';
import { loadHeadModel } from '../head/model.js';
import { renderedTriangles } from '../head/atlas.js';
import { readAvatarPly } from '../avatar/io.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { loadGridConfig } from '../experiments/config.js';
import { gridDir, runGrid } from '../experiments/runner.js';
import { loadGridResults, writeGridResults } from '../experiments/results.js';
import '../experiments/edit-runner.js';

type Args = Record<string, string>;

function parseSteps(argv: string[]): { name: string; args: Args }[] {
  const steps: { name: string; args: Args }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      steps.push({ name: a, args: {} });
      continue;
    }
    const cur = steps[steps.length - 1];
    if (!cur) throw new Error(`option ${a} before any step`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--') || !next.length) cur.args[a.slice(2)] = 'true';
    else cur.args[a.slice(2)] = argv[++i]!;
  }
  return steps;
}

// No top-level await: tslab runs lib/ as CommonJS (test/notebooks/tslab-compat.test.ts).
async function main(): Promise<void> {
  const ctx = await useTfjsWebGpu();
  console.log(`adapter: ${describeAdapter(ctx.report)}`);
  for (const { name, args } of parseSteps(process.argv.slice(2))) {
    const t0 = performance.now();
    if (name === 'synth') {
      const cfg = synthConfig((args.preset ?? 'full') as 'full' | 'tiny', {
        subject: args.subject ?? 'alice',
        seed: Number(args.seed ?? 1),
        ...(args.frames
          ? {
              frames: Number(args.frames),
              testFrames: Number(args['test-frames'] ?? Math.ceil(Number(args.frames) / 2)),
              crossFrames: Number(args['cross-frames'] ?? Math.ceil(Number(args.frames) / 2)),
            }
          : {}),
      });
      await writeDataset(ctx, args.out!, cfg, { replace: true });
    } else if (name === 'train') {
      const preset = RECON_PRESETS[(args.preset ?? 'full') as 'full' | 'tiny'];
      const config = reconConfig({
        ...preset,
        name: args.name ?? 'recon',
        data: args.data!,
        ...(args.iterations ? { iterations: Number(args.iterations) } : {}),
        ...(args['eval-frames'] ? { eval: { framesPerSplit: Number(args['eval-frames']) } } : {}),
      });
      const ac = new AbortController();
      const budget = args.budget ? Number(args.budget) * 1000 : Infinity;
      let last = 0;
      const r = await runReconstruction(config, {
        runDir: args.run!,
        log: (m) => console.log(m),
        onStep: (s, n) => {
          const el = performance.now() - t0;
          if (s - last >= n / 20 || s === n) {
            last = s;
            console.log(`step ${s}/${n} ${(el / 1000).toFixed(0)} s`);
          }
          if (el > budget) ac.abort();
        },
        signal: ac.signal,
      }).catch((e) => {
        if ((e as Error).message === 'training aborted') return null;
        throw e;
      });
      if (r) {
        for (const e of r.eval) console.log(`${e.task.padEnd(18)} PSNR ${e.psnr.toFixed(2)} SSIM ${e.ssim.toFixed(4)} (${e.frames} frames)`);
        console.log(JSON.stringify({ train: r.train }));
      } else {
        // Stopped by --budget: evaluate the last checkpoint anyway (the run itself stays resumable).
        const run = await RunDir.open(args.run!, config);
        const latest = await run.latestCheckpoint();
        console.log(`train: stopped by --budget at checkpoint step ${latest?.step ?? 'none'}; resumable`);
        if (latest) {
          const head = await loadHeadModel();
          const ply = path.join(latest.dir, 'avatar.ply');
          const g = readAvatarPly(new Uint8Array(await fs.readFile(ply)), ply, head.triangleCount, renderedTriangles(head));
          const session = await AvatarSession.open(config.data, g);
          const scores = await evaluateAvatar(session, {
            splits: config.eval.splits,
            framesPerSplit: config.eval.framesPerSplit,
            background: session.background(config),
            shDegree: config.shDegree,
            figureDir: run.file('renders'),
          });
          for (const e of scores)
            console.log(
              `${e.task.padEnd(18)} PSNR ${e.psnr.toFixed(2)} SSIM ${e.ssim.toFixed(4)} (${e.frames} frames, step ${latest.step}, ${g.count} Gaussians)`,
            );
          await writeJsonAtomic(run.file('eval-partial.json'), { step: latest.step, gaussians: g.count, splits: scores });
          session.dispose();
        }
      }
    } else if (name === 'ablate') {
      // A grid config (experiments/*.json) through the ablation runner; cells already done are skipped, so a
      // later call resumes. `--only-methods a,b` / `--only-seeds 0` filter; `--budget S` stops starting cells.
      const cfg0 = loadGridConfig(args.config!);
      const cfg = {
        ...cfg0,
        ...(args['out-dir'] ? { outDir: args['out-dir'] } : {}),
        params: { ...cfg0.params, ...(args.params ? JSON.parse(args.params) : {}) },
      };
      const methods = args['only-methods']?.split(',');
      const seeds = args['only-seeds']?.split(',').map(Number);
      const edits = args['only-edits']?.split(',');
      const budget = args.budget ? Number(args.budget) * 1000 : Infinity;
      const ac = new AbortController();
      const timer = setInterval(() => {
        if (performance.now() - t0 > budget) ac.abort();
      }, 1000);
      const summary = await runGrid(cfg, {
        signal: ac.signal,
        filter: (c) => (!methods || methods.includes(c.method.name)) && (!seeds || seeds.includes(c.seed)) && (!edits || edits.includes(c.edit.id)),
        onEvent: (e) => {
          if (e.type === 'start') console.log(`cell ${e.key} (attempt ${e.attempt}) ${((performance.now() - t0) / 1000).toFixed(0)} s`);
          else if (e.type === 'end')
            console.log(`cell ${e.key}: ${e.status}${e.error ? ` (${e.error})` : ''} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        },
      });
      clearInterval(timer);
      console.log(JSON.stringify({ done: summary.done.length, skipped: summary.skipped.length, failed: summary.failed, aborted: summary.aborted }));
      const root = gridDir(cfg);
      await writeGridResults(await loadGridResults(root), path.join(root, 'results'));
    } else if (name === 'copy') {
      await fs.mkdir(path.dirname(args.to!), { recursive: true });
      await fs.copyFile(args.from!, args.to!);
    } else {
      throw new Error(`unknown step '${name}'`);
    }
    console.log(`[${name}] ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
