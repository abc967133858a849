/**
 * `gae import-ga <subject> --flame <pkl> [--cross <other subject>] [--masks <FLAME_masks.pkl>] [--out <dir>]`:
 * checks a GaussianAvatars subject folder against the user's FLAME model (every camera, image and
 * parameter file; errors name the file and the field) and writes `ga-subject.json` (index-file.ts).
 *
 * `gae render-ga <point_cloud.ply> --flame <pkl> --subject <dir> [--split …] [--cross <other>]`: the avatar's
 * reenactment as GIF/MP4 (render.ts).
 */
import type { Command } from 'commander';
import * as path from 'node:path';
import { CliError } from '../cli/modules.js';
import type { LipRings } from '../head/flame/teeth.js';
import type { GaSplitName } from './subject.js';

export interface ImportGaOptions {
  flame: string;
  cross?: string;
  masks?: string;
  out?: string;
  checkFiles?: boolean;
  /** Lip rings for a FLAME-format model that is not FLAME's own topology (test fixtures); not a CLI option. */
  lipRings?: LipRings;
}

/** The import itself (also called by the notebook and the tests); returns the index file written. */
export async function importGa(subjectDir: string, o: ImportGaOptions, log: (l: string) => void = () => {}): Promise<string> {
  const { loadFlame } = await import('../head/flame/model.js');
  const { FlameHead } = await import('../head/flame/head.js');
  const { loadFlameMasks } = await import('../head/flame/regions.js');
  const { loadGaSubject } = await import('./subject.js');
  const { gaIndex, writeGaIndex } = await import('./index-file.js');
  const model = await loadFlame(o.flame, { lipRings: o.lipRings });
  const subject = await loadGaSubject(subjectDir, model, { cross: o.cross, checkFiles: o.checkFiles });
  const masks = o.masks ? await loadFlameMasks(o.masks) : undefined;
  const head = new FlameHead(model, { staticOffset: subject.staticOffset, masks, lipRings: o.lipRings });
  const out = path.resolve(o.out ?? path.join(subject.dir, 'gae'), 'ga-subject.json');
  const index = gaIndex(subject, { flame: model.file, vertex_count: head.vertexCount, triangle_count: head.triangleCount, region_source: head.regionSource }, o.cross);
  await writeGaIndex(out, index);
  for (const [name, s] of Object.entries(subject.splits)) log(`${name}: ${s!.frames.length} frames (${new Set(s!.frames.map((f) => f.cameraIndex)).size} cameras, ${new Set(s!.frames.map((f) => f.timestep)).size} timesteps)`);
  log(`FLAME: ${head.vertexCount} vertices, ${head.triangleCount} triangles (with teeth); regions from ${head.regionSource}`);
  log(`wrote ${out}`);
  return out;
}

/** Adds `import-ga` and `render-ga` (each once: lib/cli registers this module once per command). */
export function register(program: Command): void {
  const has = (name: string) => program.commands.some((c) => c.name() === name);
  if (!has('import-ga')) registerImport(program);
  if (!has('render-ga')) registerRender(program);
}

function registerRender(program: Command): void {
  program
    .command('render-ga')
    .description("render a GaussianAvatars avatar on your FLAME, driven by a split of its subject, into GIF (and MP4 with ffmpeg)")
    .argument('<point_cloud.ply>', "the avatar (GaussianAvatars' point_cloud.ply)")
    .requiredOption('--flame <pkl>', 'your FLAME model')
    .requiredOption('--subject <dir>', 'its GaussianAvatars subject folder (cameras, FLAME parameters)')
    .option('--split <name>', 'train | val | test (self-reenactment) | cross (with --cross)', 'test')
    .option('--cross <subject>', "another subject's folder: its held-out performance drives the avatar")
    .option('--camera <index>', 'camera index (default: the most frontal)', (v) => Number.parseInt(v, 10))
    .option('--fps <n>', 'frames per second', (v) => Number.parseFloat(v), 8)
    .option('--out <base>', 'output path without extension', 'results/render/ga-avatar')
    .action(async (ply: string, o: { flame: string; subject: string; split: string; cross?: string; camera?: number; fps: number; out: string }) => {
      const { renderGa } = await import('./render.js');
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
      try {
        await importGa(subject, o, (l) => process.stdout.write(`${l}\n`));
      } catch (e) {
        throw new CliError(`gae import-ga: ${(e as Error).message}`);
      }
    });
}
