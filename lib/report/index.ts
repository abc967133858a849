export {
  buildTable,
  toMarkdown,
  toLatex,
  tableToDataFrame,
  gtEditSpec,
  clipSpec,
  consistencySpec,
  editEffectSpec,
  summarySpec,
  contrast,
  contrastMarkdown,
  CONTRASTS,
  CONTRAST_METRICS,
  type Table,
  type TableSpec,
  type TableColumn,
} from './table.js';
export { PAPER_TABLE1, PAPER_ROW_OF, paperValue, TASK_LABELS } from './paper.js';
export {
  metricBars,
  contrastBars,
  trainingCurves,
  runCurves,
  betaSweep,
  betaPointsFromResults,
  readMetricsJsonl,
  figureHtml,
  type Figure,
  type SweepPoint,
} from './figures.js';
export { FigureExporter, exportFigure, findChromium, NO_CHROMIUM, type FigureFormat, type ExportOptions } from './export.js';
export { composeGrid, writeGridPng, type GridSpec, type GridRow, type CropBox, type Tile } from '../image/grid.js';
export { methodComparison, comparisonSeed, type Comparison, type ComparisonOptions } from './compare.js';
export { drawText, textWidth, wrapText } from '../image/font.js';
export { encodeGif, writeGif, writeMp4, exportAnimation, ffmpegAvailable, NO_FFMPEG } from '../image/animation.js';
export {
  generateReport,
  buildReport,
  sweepOf,
  figuresOf,
  type FigureKind,
  type Report,
  type ReportOptions,
  type ReportContent,
  type SweepReport,
  type ComparisonFigure,
} from './report.js';
export { cameraRigFigure, unproject, boxEdges, type RigFigureCamera, type RigFigureOptions } from './rig.js';
export {
  buildPaperFigures,
  writePaperFigures,
  reconTable,
  rasterBenchTable,
  stageBars,
  type PaperFigureSet,
  type PaperSources,
  type PaperTable,
} from './paper-figures.js';
