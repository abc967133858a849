/**
 * Cell runners: the built-in ones register themselves when this module is imported (the editing method's
 * `edit` runner, lib/experiments/edit-runner.ts); user plugins are ES modules loaded by path.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import './edit-runner.js';
import './nerf-runner.js';

/** Loads user plugins: ES modules (paths relative to the working directory) that call registerCellRunner(). */
export async function loadPlugins(files: string[]): Promise<void> {
  for (const f of files) {
    const abs = path.resolve(f);
    if (!existsSync(abs)) throw new Error(`--plugin ${f}: no such file (${abs})`);
    await import(pathToFileURL(abs).href);
  }
}
