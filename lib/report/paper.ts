/** The paper's Table 1 (GaussianAvatar-Editor, docs/method.md §6): CLIP-S / CLIP-C with CLIP ViT-L/14. */
import type { Task } from '../experiments/config.js';

export interface PaperScores {
  clipS: number;
  clipC: number;
}

export const PAPER_TABLE1: Record<string, Record<Task, PaperScores | null>> = {
  Ours: { 'novel-view': { clipS: 0.275, clipC: 0.978 }, 'self-reenactment': { clipS: 0.081, clipC: 0.951 }, 'cross-identity': { clipS: 0.081, clipC: 0.951 } },
  'w/o adv': {
    'novel-view': { clipS: 0.266, clipC: 0.976 },
    'self-reenactment': { clipS: 0.077, clipC: 0.95 },
    'cross-identity': { clipS: 0.07, clipC: 0.946 },
  },
  'w/o WABE': {
    'novel-view': { clipS: 0.236, clipC: 0.968 },
    'self-reenactment': { clipS: 0.061, clipC: 0.948 },
    'cross-identity': { clipS: 0.077, clipC: 0.95 },
  },
  'GA+I-N2N': {
    'novel-view': { clipS: 0.236, clipC: 0.968 },
    'self-reenactment': { clipS: 0.044, clipC: 0.938 },
    'cross-identity': { clipS: 0.069, clipC: 0.941 },
  },
  'INSTA+I-N2N': {
    'novel-view': { clipS: 0.181, clipC: 0.955 },
    'self-reenactment': { clipS: 0.042, clipC: 0.923 },
    'cross-identity': { clipS: 0.043, clipC: 0.936 },
  },
  Control4D: { 'novel-view': { clipS: 0.222, clipC: 0.98 }, 'self-reenactment': { clipS: 0.058, clipC: 0.938 }, 'cross-identity': null },
};

/** Our method names → the paper's row labels (methods not listed have no paper numbers). */
export const PAPER_ROW_OF: Record<string, string> = {
  ours: 'Ours',
  'ours-no-adv': 'w/o adv',
  'ours-no-wabe': 'w/o WABE',
  'ga-in2n': 'GA+I-N2N',
  'insta-in2n': 'INSTA+I-N2N',
  control4d: 'Control4D',
};

export function paperValue(method: string, task: string, metric: string): number | null {
  const row = PAPER_TABLE1[PAPER_ROW_OF[method] ?? ''];
  const s = row?.[task as Task];
  if (!s) return null;
  return metric === 'clipS' ? s.clipS : metric === 'clipC' ? s.clipC : null;
}

export const TASK_LABELS: Record<string, string> = {
  'novel-view': 'Novel view',
  'self-reenactment': 'Self-reenactment',
  'cross-identity': 'Cross-identity',
};
