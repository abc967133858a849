/**
 * lib/ is built in layers that only point down (docs/design.md): a folder imports its own layer and lower
 * ones, never a higher one, and no two folders or files import each other round a circle. bench/ and lib/
 * import nothing from test/ or scripts/. The checker is tested first on planted trees, so a pass means something.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cycles, forbiddenImports, importEdges, layerViolations, libFolder, type ImportEdge } from '../helpers/import-graph.js';

/** Bottom first. */
const LAYERS: string[][] = [
  ['gpu', 'util', 'image', 'io'],
  ['raster', 'head'],
  ['data', 'metrics'],
  ['avatar'],
  ['train'],
  ['adversarial', 'edit', 'ga', 'nerf'],
  ['experiments', 'report'],
  ['notebook', 'viewer', 'cli'],
];

/**
 * Upward imports another branch removes (each must still exist, so this list cannot go stale). Empty: the
 * editor branch's move of the ground-truth editor to lib/edit/editors/ has landed.
 */
const PENDING: ImportEdge[] = [];

/** The front door runs the benchmarks (gae bench <name>): the one import from lib/ to a folder outside it. */
const OUTSIDE_LIB_ALLOWED = (e: ImportEdge) => e.from.startsWith('lib/cli/') && e.to.startsWith('bench/');

function plant(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'layers-'));
  for (const [f, src] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), src);
  }
  return root;
}

describe('the import-graph checker', () => {
  it('finds static, re-export, side-effect and dynamic imports, and none in comments', () => {
    const root = plant({
      'lib/a/x.ts': [
        "import { y } from './y.js';",
        "import type { Z } from '../b/z.js';",
        "export * from '../b/w.js';",
        "import '../c/side.js';",
        "const m = await import('../d/lazy.js');",
        "import { z } from 'zod';",
        "// import { no } from '../e/comment.js';",
        "/** import { no } from '../e/doc.js'; */",
      ].join('\n'),
    });
    try {
      expect(importEdges(root, ['lib']).map((e) => e.to)).toEqual(['lib/a/y.ts', 'lib/b/z.ts', 'lib/b/w.ts', 'lib/c/side.ts', 'lib/d/lazy.ts']);
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it('fails a planted upward import, a folder outside the layers, a circle and a bench → test import', () => {
    const root = plant({
      'lib/gpu/device.ts': "import { main } from '../cli/main.js';\n",
      'lib/cli/main.ts': "import { device } from '../gpu/device.js';\n",
      'lib/raster/a.ts': "import { b } from './b.js';\nimport { s } from '../stray/s.js';\n",
      'lib/raster/b.ts': "import { a } from './a.js';\n",
      'lib/stray/s.ts': 'export const s = 1;\n',
      'bench/x.ts': "import { scene } from '../test/scene.js';\n",
    });
    try {
      const edges = importEdges(root, ['lib', 'bench']);
      expect(layerViolations(edges, LAYERS)).toEqual([
        'lib/gpu/device.ts imports lib/cli/main.ts: lib/gpu (layer 0) may not import lib/cli (layer 7)',
        'lib/raster/a.ts imports lib/stray/s.ts: lib/stray is in no layer',
      ]);
      expect(cycles(edges)).toEqual([
        ['lib/cli/main.ts', 'lib/gpu/device.ts'],
        ['lib/raster/a.ts', 'lib/raster/b.ts'],
      ]);
      expect(cycles(edges, libFolder)).toEqual([['cli', 'gpu']]);
      expect(forbiddenImports(edges, ['bench', 'lib'], ['test', 'scripts'])).toEqual(['bench/x.ts imports test/scene.ts']);
    } finally {
      rmSync(root, { recursive: true });
    }
  });
});

describe('this repository', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const edges = importEdges(root, ['lib', 'bench', 'test']);
  const isPending = (e: ImportEdge) => PENDING.some((p) => p.from === e.from && p.to === e.to);
  const libEdges = edges.filter((e) => !isPending(e) && !OUTSIDE_LIB_ALLOWED(e));

  it('lib/ imports only down its layers', () => {
    expect(layerViolations(libEdges, LAYERS)).toEqual([]);
  });

  it('has no circle of lib/ folders or of files', () => {
    expect(cycles(libEdges, libFolder)).toEqual([]);
    expect(cycles(edges)).toEqual([]);
  });

  it('bench/ and lib/ import nothing from test/ or scripts/', () => {
    expect(forbiddenImports(edges, ['bench', 'lib'], ['test', 'scripts'])).toEqual([]);
  });

  it('every pending exception still exists (delete it from PENDING once its branch lands)', () => {
    for (const p of PENDING)
      expect(
        edges.some((e) => e.from === p.from && e.to === p.to),
        `${p.from} → ${p.to}`,
      ).toBe(true);
  });
});
