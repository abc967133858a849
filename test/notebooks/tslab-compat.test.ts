/**
 * Every lib/ module must load in a notebook. tslab compiles each imported .ts file with its own TypeScript
 * (5.0.4), module ESNext then CommonJS, Node10 resolution, Node's libs only (no DOM), and runs it as CommonJS.
 * A type error there breaks the cell that imports the file; so does `import.meta` (a syntax error in CommonJS,
 * after which Node loads the file as an ES module where tslab's `exports` is undefined) and top-level await.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as TS from 'typescript';
import { repoRoot } from '../../lib/notebook/kernelspec.js';

const root = repoRoot();
const ts = createRequire(path.join(root, 'package.json'))('@tslab/typescript-for-tslab') as typeof TS;

function libFiles(dir = path.join(root, 'lib')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? libFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Browser-only modules (the viewer page) say so with a DOM lib reference; esbuild bundles them for Chromium. */
const BROWSER_ONLY = /^\/\/\/ <reference lib="dom" \/>/m;

describe('lib/ under tslab', () => {
  const all = libFiles();
  const browserOnly = all.filter((f) => BROWSER_ONLY.test(readFileSync(f, 'utf8')));
  const files = all.filter((f) => !browserOnly.includes(f));
  // tslab's compiler options (node_modules/tslab/dist/converter.js), with every lib/ file as a root.
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    esModuleInterop: true,
    resolveJsonModule: true,
    experimentalDecorators: true,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    noEmit: true,
    typeRoots: [path.join(root, 'node_modules', '@types')],
    rootDir: root,
  });
  const where = (f: TS.SourceFile, pos: number) => `${path.relative(root, f.fileName)}:${f.getLineAndCharacterOfPosition(pos).line + 1}`;

  it(`type-checks with tslab's TypeScript ${ts.version} and settings (no DOM lib)`, () => {
    const diags = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? where(d.file, d.start ?? 0) : ''} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    expect(files.length).toBeGreaterThan(50);
    expect(diags).toEqual([]);
  });

  it('keeps browser-only modules out of every Node import graph', () => {
    expect(browserOnly.map((f) => path.relative(root, f))).toEqual(['lib/viewer/page.ts']);
    // Were one imported by a Node module, the program would have loaded it through that import.
    expect(browserOnly.filter((f) => program.getSourceFile(f) !== undefined).map((f) => path.relative(root, f))).toEqual([]);
  });

  it('has no import.meta and no top-level await (both break the CommonJS tslab runs)', () => {
    const found: string[] = [];
    for (const f of files) {
      const sf = program.getSourceFile(f)!;
      const visit = (n: TS.Node, inFunction: boolean): void => {
        if (ts.isMetaProperty(n) && n.keywordToken === ts.SyntaxKind.ImportKeyword) found.push(`${where(sf, n.getStart())} import.meta (use lib/util/lib-dir.ts)`);
        if (!inFunction && (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier))) found.push(`${where(sf, n.getStart())} top-level await`);
        ts.forEachChild(n, (c) => visit(c, inFunction || ts.isFunctionLike(n) || ts.isClassStaticBlockDeclaration(n)));
      };
      visit(sf, false);
    }
    expect(found).toEqual([]);
  });
});
