/**
 * The gae CLI as a child process (this Node binary running bin/gae.mjs), for tests that check what a user sees:
 * exit status, printed lines, signal handling. One place that knows how gae is started from the repository root.
 */
import { spawn, spawnSync, type ChildProcessByStdio, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

/** Absolute, so that a `cwd` other than the repository root still finds it. */
export const GAE_BIN = path.resolve('bin/gae.mjs');

export interface GaeOptions {
  /** Working directory of the child; the test process's own when absent. */
  cwd?: string;
  /** Added to (or overriding) this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before the child is killed (SIGTERM); none when absent. */
  timeout?: number;
}

const childEnv = (env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv => ({ ...process.env, ...env });

/**
 * Runs gae and waits for it. Blocks the vitest worker (and its RPC with the main process) until gae exits, so
 * only for commands that end within seconds; use gaeSpawn for anything longer or that must be signalled.
 */
export function gaeSync(args: string[], opts: GaeOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [GAE_BIN, ...args], { cwd: opts.cwd, env: childEnv(opts.env), timeout: opts.timeout, encoding: 'utf8' });
}

export interface GaeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, in the order the chunks arrived (to read a log as a user would). */
  out: string;
}

export interface GaeChild {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Output received so far: lets a test act on a line (send a signal, say) while gae is still running. */
  readonly stdout: string;
  readonly stderr: string;
  readonly out: string;
  /**
   * Settles on 'exit', as the hand-written versions this replaces did, not on 'close': a grandchild that keeps
   * the pipes open (a killed grid's cell, say) must not hold the test up.
   */
  done: Promise<GaeExit>;
}

/** Starts gae without waiting (stdin ignored, stdout and stderr collected). */
export function gaeSpawn(args: string[], opts: GaeOptions = {}): GaeChild {
  const child = spawn(process.execPath, [GAE_BIN, ...args], {
    cwd: opts.cwd,
    env: childEnv(opts.env),
    timeout: opts.timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let out = '';
  // Decoded by the streams, so a character split between two chunks (≥, say) arrives whole.
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  // Registered before the caller can add its own listeners, so theirs see each chunk already counted here.
  child.stdout.on('data', (d: string) => {
    stdout += d;
    out += d;
  });
  child.stderr.on('data', (d: string) => {
    stderr += d;
    out += d;
  });
  const done = new Promise<GaeExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, out })));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get out() {
      return out;
    },
    done,
  };
}
