export {
  parseGridConfig,
  loadGridConfig,
  GridConfigSchema,
  TASKS,
  type GridConfig,
  type GridConfigInput,
  type Task,
  type MethodDef,
  type EditDef,
} from './config.js';
export { registerCellRunner, getCellRunner, listCellRunners, type CellRunner, type CellContext, type CellResult, type MetricValue } from './registry.js';
export {
  runGrid,
  expandGrid,
  cellKey,
  cellDir,
  gridDir,
  readDone,
  type Cell,
  type GridEvent,
  type GridSummary,
  type RunGridOptions,
  type DoneRecord,
} from './runner.js';
export {
  loadGridResults,
  collectCells,
  longRows,
  aggregateOverSeeds,
  aggregatePerCellGroup,
  toDataFrame,
  toCsv,
  writeGridResults,
  type AggRow,
  type LongRow,
  type CellRecord,
  type GridResults,
} from './results.js';
export { summarize, studentTQuantile, studentTCdf, type Summary } from './stats.js';
