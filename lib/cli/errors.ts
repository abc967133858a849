/**
 * How commands end on an error: one line naming the file and the field (the messages lib/ throws already
 * do), never a raw stack trace, unless `--debug` (or GAE_DEBUG=1) asks for it. A run stopped by a signal
 * exits with the shell's 128 + signal code after saying where its checkpoint is.
 */
import { CliError } from './modules.js';
import { RunStopped } from '../train/stop.js';

/** Whether stack traces were asked for; `--debug` is taken out of argv so that no command sees it. */
export function takeDebugFlag(argv: string[]): { argv: string[]; debug: boolean } {
  const debug = argv.includes('--debug') || process.env.GAE_DEBUG === '1';
  return { argv: argv.filter((a) => a !== '--debug'), debug };
}

/** The text to print and the exit code for an error that ended command `name`. */
export function describeFailure(e: unknown, name: string, debug: boolean): { text: string; exitCode: number } {
  if (e instanceof CliError) return { text: e.message, exitCode: e.exitCode };
  if (e instanceof RunStopped) return { text: `${name}: ${e.message}`, exitCode: e.exitCode };
  const err = e instanceof Error ? e : new Error(String(e));
  if (debug) return { text: `${name}: ${err.stack ?? err.message}${causeStack(err)}`, exitCode: 1 };
  const first = err.message.split('\n')[0] || err.name;
  const more = err.message.includes('\n') ? ' (…; --debug for the whole message and the stack trace)' : ' (--debug for the stack trace)';
  return { text: `${name}: ${first}${more}`, exitCode: 1 };
}

function causeStack(e: Error): string {
  const c = e.cause;
  return c instanceof Error ? `\ncaused by: ${c.stack ?? c.message}` : '';
}

/** Prints the failure and sets the exit code (the caller returns; pending output still flushes). */
export function reportFailure(e: unknown, name: string, debug: boolean): void {
  const { text, exitCode } = describeFailure(e, name, debug);
  process.stderr.write(`${text}\n`);
  process.exitCode = exitCode;
}
