/**
 * Brings finished grid cells from a GPU machine's run directories (results/runs/<grid>/…, unpacked from the tars
 * a `device` call returns) into a committed results folder, trimmed for git (lib/report/import-cells.ts says
 * what is kept: grid.json, per cell done.json, per-frame.json, edit/metrics.jsonl, edit/adversary.jsonl and the
 * other small files, a few downsampled evaluation frames; never checkpoints).
 *
 *   gae import-cells <from grid dir> <to grid dir> [--splits test,cross] [--frames 3]
 *       [--frame-seeds 0] [--downsample 2] [--overwrite]
 *
 * A sweep goes beside the table it belongs to, where `gae report` draws it:
 *   gae import-cells results/runs/adv-lambda-sweep results/table1/sweeps/adv-lambda-sweep --splits none
 */
import { Command } from 'commander';
import { importCells } from '../report/import-cells.js';

const program = new Command()
  .name('import-cells')
  .argument('<from>', 'grid directory on this machine (unpacked from the GPU machine)')
  .argument('<to>', 'committed grid directory, e.g. results/table1')
  .option('--splits <list>', 'evaluation splits whose saved frames are kept (comma-separated; "none" keeps none)', 'test')
  .option('--frames <n>', 'saved frames kept per split and cell', '3')
  .option('--frame-seeds <list>', 'seeds whose cells keep frames (default: the lowest seed)')
  .option('--downsample <k>', 'box-filter factor of the kept frames', '2')
  .option('--overwrite', 'replace cells already present', false)
  .parse();
const [from, to] = program.args as [string, string];
const o = program.opts<{ splits: string; frames: string; frameSeeds?: string; downsample: string; overwrite: boolean }>();
const int = (v: string, name: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`import-cells: --${name}: expected a non-negative integer, got "${v}"`);
    process.exit(2);
  }
  return n;
};
async function main(): Promise<void> {
  const sum = await importCells(from, to, {
    splits:
      o.splits === 'none'
        ? []
        : o.splits
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    frames: int(o.frames, 'frames'),
    ...(o.frameSeeds ? { frameSeeds: o.frameSeeds.split(',').map((s) => int(s, 'frame-seeds')) } : {}),
    downsample: int(o.downsample, 'downsample'),
    overwrite: o.overwrite,
    log: (m) => console.log(m),
  });
  console.log(
    `${sum.imported.length} cells imported, ${sum.kept.length} kept (already present), ${sum.skipped.length} not done, ${(sum.bytes / 1e6).toFixed(1)} MB written`,
  );
}
// Awaited by scriptCommand (lib/cli/modules.ts), so that errors end the command as gae reports them.
export const done = main();
