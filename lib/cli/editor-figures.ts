/**
 * Writes the editor pictures of docs/editing.md (lib/edit/editors/figures.ts) as docs/images/editor-<name>.png.
 *
 *   gae editor-figures [--out docs/images]
 */
import { Command } from 'commander';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { editorFigures } from '../edit/editors/figures.js';
import { encodePng } from '../util/image.js';
import { writeFileAtomic } from '../util/atomic.js';

async function main(): Promise<void> {
  const o = new Command('editor-figures')
    .description("Render the offline editor's failure modes and controls on the toy face")
    .option('--out <dir>', 'output folder', 'docs/images')
    .parse()
    .opts<{ out: string }>();
  await fs.mkdir(o.out, { recursive: true });
  let total = 0;
  for (const f of await editorFigures()) {
    const bytes = encodePng(f.image);
    const file = path.join(o.out, `editor-${f.name}.png`);
    await writeFileAtomic(file, bytes);
    total += bytes.length;
    console.log(`${file}: ${f.image.width}x${f.image.height}, ${(bytes.length / 1024).toFixed(1)} KB`);
  }
  console.log(`total ${(total / 1024).toFixed(1)} KB`);
}

main().catch((e) => {
  console.error(`editor-figures: ${(e as Error).message}`);
  process.exit(1);
});
