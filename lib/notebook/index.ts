/**
 * Notebook support: display helpers for tslab kernels, presets (tiny in CI, full for research), the
 * gae-tslab kernelspec, and the headless runner with its expected-output checks. Notebooks import this as
 * './lib/notebook/index.js' (the kernel runs in the repository root).
 */
export { display, setDisplaySink, memorySink, NOT_IN_KERNEL, type DisplaySink, type MimeBundle } from './display.js';
export {
  showImage,
  showImages,
  showFigure,
  showTable,
  showMarkdown,
  closeNotebook,
  imageBundle,
  figureBundle,
  tableBundle,
  tableCells,
  formatCell,
  type ImageOptions,
  type FigureOptions,
  type TableOptions,
  type DataFrameLike,
} from './show.js';
export { preset, pick, notebookDataset, notebookFlag, PRESET_ENV, NOTEBOOK_PRESETS, type NotebookPreset, type NotebookDataset } from './preset.js';
