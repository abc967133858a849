/** A small GIF decoder for tests (independent of the encoder): frames as RGB bytes, delays, loop count. */
export interface GifFrame {
  rgb: Uint8Array; // [H,W,3]
  delayCs: number; // 1/100 s
}
export interface DecodedGif {
  width: number;
  height: number;
  frames: GifFrame[];
  loop: number | null; // NETSCAPE2.0 repeat count, null when absent
}

function lzwDecode(data: Uint8Array, minCodeSize: number, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  let size = minCodeSize + 1;
  let dict: number[][] = [];
  const reset = () => {
    dict = [];
    for (let i = 0; i < clear; i++) dict.push([i]);
    dict.push([], []);
    size = minCodeSize + 1;
  };
  reset();
  let bit = 0;
  let n = 0;
  let prev: number[] | null = null;
  while (bit + size <= data.length * 8) {
    let code = 0;
    for (let i = 0; i < size; i++, bit++) code |= ((data[bit >> 3]! >> (bit & 7)) & 1) << i;
    if (code === clear) {
      reset();
      prev = null;
      continue;
    }
    if (code === eoi) break;
    let entry: number[];
    if (code < dict.length) entry = dict[code]!;
    else if (prev) entry = [...prev, prev[0]!];
    else throw new Error('GIF: bad LZW code');
    for (const v of entry) if (n < pixels) out[n++] = v;
    if (prev && dict.length < 4096) dict.push([...prev, entry[0]!]);
    prev = entry;
    if (dict.length === 1 << size && size < 12) size++;
  }
  if (n !== pixels) throw new Error(`GIF: decoded ${n} of ${pixels} pixels`);
  return out;
}

export function decodeGif(bytes: Uint8Array): DecodedGif {
  const sig = String.fromCharCode(...bytes.slice(0, 6));
  if (sig !== 'GIF89a' && sig !== 'GIF87a') throw new Error(`GIF: bad signature ${sig}`);
  const u16 = (o: number) => bytes[o]! | (bytes[o + 1]! << 8);
  const width = u16(6);
  const height = u16(8);
  const flags = bytes[10]!;
  let pos = 13;
  let gct: Uint8Array | null = null;
  if (flags & 0x80) {
    const n = 3 * (1 << ((flags & 7) + 1));
    gct = bytes.slice(pos, pos + n);
    pos += n;
  }
  const frames: GifFrame[] = [];
  let delay = 0;
  let loop: number | null = null;
  const subBlocks = () => {
    const parts: number[] = [];
    for (let len = bytes[pos++]!; len !== 0; len = bytes[pos++]!) {
      for (let i = 0; i < len; i++) parts.push(bytes[pos + i]!);
      pos += len;
    }
    return new Uint8Array(parts);
  };
  for (;;) {
    const b = bytes[pos++];
    if (b === 0x3b) break;
    if (b === 0x21) {
      const label = bytes[pos++];
      const body = subBlocks();
      if (label === 0xf9) delay = body[1]! | (body[2]! << 8);
      if (label === 0xff && String.fromCharCode(...body.slice(0, 11)) === 'NETSCAPE2.0') loop = body[12]! | (body[13]! << 8);
    } else if (b === 0x2c) {
      const [x, y, w, h] = [u16(pos), u16(pos + 2), u16(pos + 4), u16(pos + 6)];
      const f = bytes[pos + 8]!;
      pos += 9;
      let table = gct;
      if (f & 0x80) {
        const n = 3 * (1 << ((f & 7) + 1));
        table = bytes.slice(pos, pos + n);
        pos += n;
      }
      if (f & 0x40) throw new Error('GIF: interlaced frames not supported by this test decoder');
      const minCode = bytes[pos++]!;
      const idx = lzwDecode(subBlocks(), minCode, w * h);
      const rgb = new Uint8Array(width * height * 3);
      if (frames.length) rgb.set(frames[frames.length - 1]!.rgb);
      for (let yy = 0; yy < h; yy++)
        for (let xx = 0; xx < w; xx++) {
          const k = idx[yy * w + xx]!;
          const d = 3 * ((y + yy) * width + x + xx);
          rgb[d] = table![3 * k]!;
          rgb[d + 1] = table![3 * k + 1]!;
          rgb[d + 2] = table![3 * k + 2]!;
        }
      frames.push({ rgb, delayCs: delay });
    } else throw new Error(`GIF: unexpected block 0x${(b ?? 0).toString(16)} at ${pos - 1}`);
  }
  return { width, height, frames, loop };
}
