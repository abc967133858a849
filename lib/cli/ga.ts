/**
 * `gae import-ga <subject> --flame <pkl> [--cross <other subject>] [--masks <FLAME_masks.pkl>] [--out <dir>]`:
 * checks a GaussianAvatars subject folder against the user's FLAME model and indexes it (lib/ga/import.ts).
 *
 * `gae render-ga <point_cloud.ply> --flame <pkl> --subject <dir> [--split …] [--cross <other>]`: the avatar's
 * reenactment as GIF/MP4 (lib/ga/render.ts).
 */
import type { Command } from 'commander';
import { CliError } from './modules.js';
import type { ImportGaOptions } from '../ga/import.js';
import type { GaSplitName } from '../ga/subject.js';

/** Adds `import-ga` and `render-ga`. */
export function register(program: Command): void {
  registerImport(program);
  registerRender(program);
}

function registerRender(program: Command): void {
  program
    .command('render-ga')
    .description('render a GaussianAvatars avatar on your FLAME, driven by a split of its subject, into GIF (and MP4 with ffmpeg)')
    .argument('<point_cloud.ply>', "the avatar (GaussianAvatars' point_cloud.ply)")
    .requiredOption('--flame <pkl>', 'your FLAME model')
    .requiredOption('--subject <dir>', 'its GaussianAvatars subject folder (cameras, FLAME parameters)')
    .option('--split <name>', 'train | val | test (self-reenactment) | cross (with --cross)', 'test')
    .option('--cross <subject>', "another subject's folder: its held-out performance drives the avatar")
    .option('--camera <index>', 'camera index (default: the most frontal)', (v) => Number.parseInt(v, 10))
    .option('--fps <n>', 'frames per second', (v) => Number.parseFloat(v), 8)
    .option('--out <base>', 'output path without extension', 'results/render/ga-avatar')
    .action(async (ply: string, o: { flame: string; subject: string; split: string; cross?: string; camera?: number; fps: number; out: string }) => {
      const { renderGa } = await import('../ga/render.js');
      const { releaseGpu } = await import('../gpu/index.js');
      try {
        const r = await renderGa(ply, { ...o, split: o.split as GaSplitName });
        for (const f of r.written) process.stdout.write(`wrote ${f} (${r.frames} frames)\n`);
        for (const s of r.skipped) process.stdout.write(`skipped ${s.format}: ${s.reason}\n`);
      } catch (e) {
        throw new CliError(`gae render-ga: ${(e as Error).message}`);
      } finally {
        await releaseGpu();
      }
    });
}

function registerImport(program: Command): void {
  program
    .command('import-ga')
    .description('check a GaussianAvatars subject (transforms_*.json, FLAME parameters) against your FLAME model and index it')
    .argument('<subject>', 'GaussianAvatars subject folder')
    .requiredOption('--flame <pkl>', 'your FLAME model (flame2023.pkl or FLAME 2020 generic_model.pkl)')
    .option('--cross <subject>', "another subject's folder: its held-out sequence drives cross-identity reenactment")
    .option('--masks <pkl>', 'FLAME_masks.pkl for region labels (else regions come from geometry)')
    .option('--out <dir>', 'where ga-subject.json goes (default <subject>/gae)')
    .option('--no-check-files', 'do not check that every image exists')
    .action(async (subject: string, o: ImportGaOptions) => {
      const { importGa } = await import('../ga/import.js');
      try {
        await importGa(subject, o, (l) => process.stdout.write(`${l}\n`));
      } catch (e) {
        throw new CliError(`gae import-ga: ${(e as Error).message}`);
      }
    });
}
