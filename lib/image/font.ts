/**
 * A tiny 5×7 bitmap font for labels on image grids, drawn straight into RgbImages (no font library, no
 * browser). Upper case, digits and common punctuation; lower case is drawn as upper case.
 */
import type { RgbImage } from '../util/image.js';

export const GLYPH_W = 5;
export const GLYPH_H = 7;

// Each glyph: 7 rows of 5 columns, '#' = ink.
const G: Record<string, string> = {
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '####. ....# ....# .###. ....# ....# ####.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '-': '..... ..... ..... .###. ..... ..... .....',
  _: '..... ..... ..... ..... ..... ..... #####',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  ';': '..... .##.. .##.. ..... .##.. ..#.. .#...',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '/': '....# ....# ...#. ..#.. .#... #.... #....',
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '%': '##..# ##..# ...#. ..#.. .#... #..## #..##',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  "'": '..#.. ..#.. .#... ..... ..... ..... .....',
  '"': '.#.#. .#.#. ..... ..... ..... ..... .....',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '*': '..... #.#.# .###. ##### .###. #.#.# .....',
  '&': '.##.. #..#. #.#.. .#... #.#.# #..#. .##.#',
  '±': '..#.. ..#.. ##### ..#.. ..#.. ..... #####',
  β: '.##.. #..#. #..#. ###.. #..#. #..#. ###..',
  '×': '..... #...# .#.#. ..#.. .#.#. #...# .....',
};
const UNKNOWN = '##### #...# #...# #...# #...# #...# #####';

const bitmaps = new Map<string, Uint8Array>();
function glyph(ch: string): Uint8Array {
  const c = G[ch] !== undefined ? ch : G[ch.toUpperCase()] !== undefined ? ch.toUpperCase() : '\u0000';
  let b = bitmaps.get(c);
  if (!b) {
    const rows = (G[c] ?? UNKNOWN).split(' ');
    b = new Uint8Array(GLYPH_W * GLYPH_H);
    rows.forEach((r, y) => [...r].forEach((p, x) => (b![y * GLYPH_W + x] = p === '#' ? 1 : 0)));
    bitmaps.set(c, b);
  }
  return b;
}

/** Width in pixels of `text` at `scale` (1 px spacing between glyphs, scaled). */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * (GLYPH_W + 1) - 1) * scale;
}

export const textHeight = (scale = 1) => GLYPH_H * scale;

/** Draws `text` with its top-left at (x, y); pixels outside the image are clipped. */
export function drawText(img: RgbImage, text: string, x: number, y: number, color: [number, number, number] = [0, 0, 0], scale = 1): void {
  let cx = x;
  for (const ch of text) {
    const b = glyph(ch);
    for (let gy = 0; gy < GLYPH_H; gy++) {
      for (let gx = 0; gx < GLYPH_W; gx++) {
        if (!b[gy * GLYPH_W + gx]) continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) {
            const px = cx + gx * scale + sx;
            const py = y + gy * scale + sy;
            if (px < 0 || py < 0 || px >= img.width || py >= img.height) continue;
            img.data.set(color, 3 * (py * img.width + px));
          }
        }
      }
    }
    cx += (GLYPH_W + 1) * scale;
  }
}

/** Splits text into lines no wider than maxWidth, at spaces or after hyphens (a longer word is cut). */
export function wrapText(text: string, maxWidth: number, scale = 1): string[] {
  const perLine = Math.max(1, Math.floor((maxWidth / scale + 1) / (GLYPH_W + 1)));
  const len = (s: string) => [...s].length;
  // Tokens with the separator that joins them to the previous token on one line.
  const tokens: { t: string; sep: string }[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    word.split(/(?<=-)/).forEach((part, i) => tokens.push({ t: part, sep: i === 0 ? ' ' : '' }));
  }
  const lines: string[] = [];
  let cur = '';
  for (const { t, sep } of tokens) {
    const next = cur ? cur + sep + t : t;
    if (len(next) <= perLine) {
      cur = next;
      continue;
    }
    if (cur) lines.push(cur);
    let w = t;
    while (len(w) > perLine) {
      lines.push([...w].slice(0, perLine).join(''));
      w = [...w].slice(perLine).join('');
    }
    cur = w;
  }
  if (cur) lines.push(cur);
  return lines;
}
