/**
 * Cell runners by name. A method's cells are run by the runner its config names (default: the method's
 * name), so the editing module plugs in by calling `registerCellRunner('ours', ...)` from a module the CLI
 * loads (`gae ablate --plugin <module>`, or one imported by lib/experiments/runners.ts).
 */
import type { EditDef, MethodDef, Task } from './config.js';

/** One cell of an ablation grid: what its runner is asked to compute. */
export interface Cell {
  grid: string;
  method: MethodDef;
  subject: string;
  edit: EditDef;
  seed: number;
  tasks: Task[];
  /** grid params ⊕ method params ⊕ edit params (later wins). */
  params: Record<string, unknown>;
}

export type MetricValue = number | null;

export interface CellResult {
  /** task → metric → value; null for a metric that could not be computed (say why in notes). */
  metrics: Record<string, Record<string, MetricValue>>;
  notes?: string[];
}

export interface CellContext {
  cell: Cell;
  /** The cell's run directory (exists; the runner writes its files here). */
  dir: string;
  /** 1 for the first attempt; > 1 after a kill or a failure. */
  attempt: number;
  /** True when a previous attempt left files here and the runner said it can resume from them. */
  resume: boolean;
  /** Appends a timestamped line to the cell's log.txt. */
  log(message: string): void;
  /** Reports progress in [0, 1] (for progress bars). */
  progress(fraction: number): void;
  /** Aborted when the user interrupts the grid; long runners should check it between steps. */
  signal: AbortSignal;
}

/** What a runner's `prepare` gets: the cell (one of those sharing the prerequisite) and the grid's root. */
export interface PrepareContext {
  cell: Cell;
  /** The grid's run directory (<outDir>/<grid>). */
  gridRoot: string;
  log(message: string): void;
  signal: AbortSignal;
}

export interface CellRunner {
  run(ctx: CellContext): Promise<CellResult>;
  /**
   * Builds what several cells share (a dataset, a reconstruction) before any of them runs, so that cells run
   * at once (Slurm array tasks, `--parallel`) never race to build it. Idempotent: called once per pending cell
   * by `gae ablate --prepare`; cells still build a missing prerequisite themselves when run alone.
   */
  prepare?(ctx: PrepareContext): Promise<void>;
  /** The runner checkpoints into its directory and can continue from a killed attempt's files. */
  supportsResume?: boolean;
  description?: string;
}

const runners = new Map<string, CellRunner>();

export function registerCellRunner(name: string, runner: CellRunner | CellRunner['run']): void {
  runners.set(name, typeof runner === 'function' ? { run: runner } : runner);
}

export function getCellRunner(name: string): CellRunner | undefined {
  return runners.get(name);
}

export function listCellRunners(): string[] {
  return [...runners.keys()].sort();
}

export function unregisterCellRunner(name: string): void {
  runners.delete(name);
}
