/**
 * The `gae-tslab` Jupyter kernelspec, written by hand (no Python needed): a kernel.json whose argv runs
 * scripts/notebook-kernel.sh of this checkout, which starts tslab in the repository root. Jupyter looks for
 * kernels in <data dir>/kernels/<name>/ for each data dir on $JUPYTER_PATH, then the user's, then the system's.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { libDir } from '../util/lib-dir.js';
import { PRESET_ENV, type NotebookPreset } from './preset.js';

export const KERNEL_NAME = 'gae-tslab';
export const KERNEL_DISPLAY_NAME = 'TypeScript (GaussianAvatar-Editor)';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'signal';
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** The repository root of this checkout (lib/..). */
export function repoRoot(): string {
  return path.dirname(libDir());
}

/** `preset` pins GAE_NOTEBOOK_PRESET for every notebook on this kernel (e.g. tiny on a machine without a GPU). */
export function kernelSpec(root = repoRoot(), node = process.execPath, preset?: NotebookPreset): KernelSpec {
  return {
    argv: [path.join(root, 'scripts', 'notebook-kernel.sh'), '{connection_file}'],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
    interrupt_mode: 'signal',
    env: { GAE_NODE: node, ...(preset ? { [PRESET_ENV]: preset } : {}) },
    metadata: { debugger: false, checkout: root },
  };
}

/** Jupyter's per-user data directory, as jupyter_core computes it. */
export function userDataDir(env: Record<string, string | undefined> = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  if (env.JUPYTER_DATA_DIR) return path.resolve(env.JUPYTER_DATA_DIR);
  if (platform === 'darwin') return path.join(home, 'Library', 'Jupyter');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'jupyter');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'jupyter');
}

/** The data dir of an installation prefix (a venv, /usr/local): <prefix>/share/jupyter, as `jupyter kernelspec install --prefix`. */
export function prefixDataDir(prefix: string): string {
  return path.join(path.resolve(prefix), 'share', 'jupyter');
}

/**
 * Writes <dataDir>/kernels/gae-tslab/kernel.json. Idempotent: an identical file is left alone
 * (`changed` false); a kernelspec of the same name pointing elsewhere is replaced.
 */
export async function installKernelSpec(
  dataDir: string,
  opts: { root?: string; node?: string; preset?: NotebookPreset } = {},
): Promise<{ dir: string; file: string; changed: boolean }> {
  const dir = path.join(path.resolve(dataDir), 'kernels', KERNEL_NAME);
  const file = path.join(dir, 'kernel.json');
  const text = JSON.stringify(kernelSpec(opts.root, opts.node, opts.preset), null, 1) + '\n';
  const old = await fs.readFile(file, 'utf8').catch(() => null);
  if (old === text) return { dir, file, changed: false };
  await writeFileAtomic(file, text);
  return { dir, file, changed: true };
}
