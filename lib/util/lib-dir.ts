/**
 * The absolute path of this checkout's lib/ folder, whichever way lib/ was loaded: as ES modules (tsx, node,
 * vitest) or as CommonJS (tslab compiles every imported .ts file to CommonJS). Modules reachable from a notebook
 * must not mention `import.meta`: in CommonJS it is a syntax error, and Node's module-syntax detection then loads
 * the file as an ES module, where tslab's `exports` is undefined. So the location comes from `__filename` where
 * the loader provides it (CommonJS, vitest) and otherwise from V8's call sites (an ES module's file URL).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

function thisFile(): string {
  if (typeof __filename === 'string' && __filename.length > 0) return __filename;
  const saved = Error.prepareStackTrace;
  let file: string | null | undefined;
  try {
    Error.prepareStackTrace = (_err, sites) => sites;
    const sites = new Error().stack as unknown as NodeJS.CallSite[];
    file = sites[0]?.getFileName();
  } finally {
    Error.prepareStackTrace = saved;
  }
  if (!file) throw new Error('lib/util/lib-dir.ts: cannot tell where this module was loaded from');
  return file.startsWith('file:') ? fileURLToPath(file) : file;
}

let cached: string | undefined;

/** `<checkout>/lib` (in a bundle: the bundle's folder, as `import.meta.url` would say there). */
export function libDir(): string {
  cached ??= path.resolve(path.dirname(thisFile()), '..');
  return cached;
}

/** `require.resolve(spec)` as seen from lib/ (e.g. the plotly.js bundle in node_modules). */
export function resolveFromLib(spec: string): string {
  return createRequire(path.join(libDir(), 'package-resolution.js')).resolve(spec);
}
