/**
 * The repository's import graph, read from the sources (no TypeScript needed): every relative `import … from`,
 * `export … from`, side-effect `import '…'` and `import('…')` with a literal specifier, type-only imports
 * included (they couple modules just the same). test/arch/layers.test.ts holds lib/ to its layering with it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** One import: both ends as paths relative to the root, with '/' separators (`lib/edit/loop.ts`). */
export interface ImportEdge {
  from: string;
  to: string;
}

const SOURCE = /\.(ts|mts|js|mjs)$/;
const SPECIFIERS =
  /(?:^|[^\w.])(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[^\w.])import\s+['"]([^'"]+)['"]/g;

function sourceFiles(root: string, dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'fixtures') out.push(...sourceFiles(root, rel));
    } else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Comments hold example imports (`import { x } from './y.js'` in a doc block); drop them before matching. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Every relative import of the source files under `dirs` (folders relative to `root`). */
export function importEdges(root: string, dirs: string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const dir of dirs) {
    for (const from of sourceFiles(root, dir)) {
      const src = stripComments(readFileSync(path.join(root, from), 'utf8'));
      for (const m of src.matchAll(SPECIFIERS)) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (!spec.startsWith('.')) continue;
        // NodeNext style: sources import './x.js' for x.ts.
        const to = path.posix
          .normalize(path.posix.join(path.posix.dirname(from), spec))
          .replace(/\.js$/, '.ts')
          .replace(/\.mjs$/, '.mts');
        edges.push({ from, to });
      }
    }
  }
  return edges;
}

/** The lib/ folder a path belongs to (`lib/edit/editors/hf.ts` → `edit`), or undefined outside lib/. */
export function libFolder(file: string): string | undefined {
  const m = /^lib\/([^/]+)\//.exec(file);
  return m ? m[1] : undefined;
}

/**
 * Imports that point up or sideways-into-the-unknown: `layers` lists lib/'s folders bottom first; a folder may
 * import its own layer's folders and any lower layer's. Each problem is one line naming the file and the import.
 */
export function layerViolations(edges: ImportEdge[], layers: string[][]): string[] {
  const rank = new Map<string, number>();
  layers.forEach((names, i) => names.forEach((n) => rank.set(n, i)));
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const a = libFolder(from);
    if (a === undefined) continue;
    const b = libFolder(to);
    if (b === undefined) {
      problems.push(`${from} imports ${to}, outside lib/`);
      continue;
    }
    if (a === b) continue;
    for (const f of [a, b]) if (!rank.has(f)) problems.push(`${from} imports ${to}: lib/${f} is in no layer`);
    if (rank.has(a) && rank.has(b) && rank.get(b)! > rank.get(a)!)
      problems.push(`${from} imports ${to}: lib/${a} (layer ${rank.get(a)}) may not import lib/${b} (layer ${rank.get(b)})`);
  }
  return problems;
}

/** Strongly connected components of more than one node (Tarjan), each sorted; `key` maps a file to its node. */
export function cycles(edges: ImportEdge[], key: (file: string) => string | undefined = (f) => f): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = key(e.from);
    const b = key(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    if (!next.has(b)) next.set(b, new Set());
    next.get(a)!.add(b);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** Imports from `dirs` into any of the `forbidden` folders (`bench` → `test`, say). */
export function forbiddenImports(edges: ImportEdge[], dirs: string[], forbidden: string[]): string[] {
  const under = (f: string, d: string) => f === d || f.startsWith(`${d}/`);
  return edges.filter((e) => dirs.some((d) => under(e.from, d)) && forbidden.some((d) => under(e.to, d))).map((e) => `${e.from} imports ${e.to}`);
}
