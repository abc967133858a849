/**
 * Built-in cell runners: modules that register runners when imported. A module listed here is loaded when its
 * file exists, so the editing module plugs in by creating it (no change here needed once listed).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LIB_DIR } from '../cli/modules.js';

/** Paths under lib/, without extension. */
export const BUILTIN_RUNNER_MODULES = ['edit/cell-runner', 'train/cell-runner', 'nerf/cell-runner'];

export async function loadBuiltinRunners(libDir = LIB_DIR): Promise<string[]> {
  const loaded: string[] = [];
  for (const m of BUILTIN_RUNNER_MODULES) {
    if (existsSync(path.join(libDir, `${m}.ts`)) || existsSync(path.join(libDir, `${m}.js`))) {
      await import(path.join(libDir, `${m}.js`));
      loaded.push(m);
    }
  }
  return loaded;
}

/** Loads user plugins: ES modules (paths relative to the working directory) that call registerCellRunner(). */
export async function loadPlugins(files: string[]): Promise<void> {
  for (const f of files) {
    const abs = path.resolve(f);
    if (!existsSync(abs)) throw new Error(`--plugin ${f}: no such file (${abs})`);
    await import(pathToFileURL(abs).href);
  }
}
