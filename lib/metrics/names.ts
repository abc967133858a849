/**
 * Names of the metric columns a cell runner reports (CellResult.metrics[task][name]) and the report reads.
 * Region names are the keys of REGION_GROUPS (lib/head/regions.ts) plus 'image' for the whole frame.
 */
export const metricNames = {
  /** Edit accuracy against the ground-truth edit (lib/metrics/regions.ts). */
  psnr: (region: string) => `psnr/${region}`,
  ssim: (region: string) => `ssim/${region}`,
  /** The same on the frames with the mouth open only (WABE's target: teeth and tongue when visible). */
  psnrOpen: (region: string) => `psnrOpen/${region}`,
  /** Wall time of the cell's editing, seconds. */
  editSeconds: 'editSeconds',
  /** Temporal flicker of the edit residual (edited − unedited avatar, lib/metrics/edit-scores.ts), and the GT edit's own for reference. */
  flicker: (region = 'head') => `flicker/${region}`,
  flickerGT: (region = 'head') => `flickerGT/${region}`,
  viewConsistency: 'viewConsistency',
  /** Edit scores without the editor (lib/metrics/edit-scores.ts): leakage onto guarded neighbours (all, and per
   *  region), preservation of unedited regions against the unedited avatar (dB), edit strength (projection). */
  leakage: (region = 'all') => `leakage/${region}`,
  preservation: 'preservation',
  editStrength: 'editStrength',
  /** CLIP directional similarity and direction consistency (lib/metrics/clip.ts). */
  clipS: 'clipS',
  clipC: 'clipC',
} as const;

export const REPORT_REGIONS = ['head', 'mouthInterior', 'eyes', 'skin', 'lips'] as const;

export const REGION_LABELS: Record<string, string> = {
  image: 'Image',
  head: 'Head',
  mouthInterior: 'Mouth int.',
  eyes: 'Eyes',
  skin: 'Skin',
  lips: 'Lips',
};
