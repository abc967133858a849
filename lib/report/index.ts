export { buildTable, toMarkdown, toLatex, tableToDataFrame, gtEditSpec, clipSpec, consistencySpec, type Table, type TableSpec, type TableColumn } from './table.js';
export { PAPER_TABLE1, PAPER_ROW_OF, paperValue, TASK_LABELS } from './paper.js';
export { metricBars, trainingCurves, runCurves, betaSweep, betaPointsFromResults, readMetricsJsonl, figureHtml, type Figure, type SweepPoint } from './figures.js';
export { FigureExporter, exportFigure, findChromium, NO_CHROMIUM, type FigureFormat, type ExportOptions } from './export.js';
export { composeGrid, writeGridPng, type GridSpec, type GridRow, type CropBox, type Tile } from './grid.js';
export { drawText, textWidth, wrapText } from './font.js';
export { encodeGif, writeGif, writeMp4, exportAnimation, ffmpegAvailable, NO_FFMPEG } from './animation.js';
export { generateReport, type Report, type ReportOptions } from './report.js';
export { cameraRigFigure, unproject, boxEdges, type RigFigureCamera, type RigFigureOptions } from './rig.js';
