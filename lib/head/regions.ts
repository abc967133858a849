/**
 * Per-pixel region labels of the synthetic data (written as 8-bit label PNGs, value = id). The edit
 * metrics (PSNR/SSIM per region) and the offline editors read the same ids.
 */
export const REGION_NAMES = ['background', 'skin', 'lips', 'teeth', 'tongue', 'eyes', 'hair'] as const;
export type RegionName = (typeof REGION_NAMES)[number];

export const Region = {
  background: 0,
  skin: 1, // face skin incl. brows, nose, ears
  lips: 2,
  teeth: 3,
  tongue: 4, // tongue and gums: the soft mouth interior
  eyes: 5, // sclera, iris, pupil
  hair: 6, // back of the head / scalp
} as const satisfies Record<RegionName, number>;

/** Region groups the evaluation reports (docs/method.md §7). */
export const REGION_GROUPS: Record<string, readonly number[]> = {
  head: [Region.skin, Region.lips, Region.teeth, Region.tongue, Region.eyes, Region.hair],
  mouthInterior: [Region.teeth, Region.tongue],
  eyes: [Region.eyes],
  skin: [Region.skin],
  lips: [Region.lips],
};
