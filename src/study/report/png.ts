/**
 * Just enough PNG reading to check a rendered image: its header, and the pixels of a
 * non-interlaced 8-bit greyscale / RGB / RGBA image (what Chromium writes), for tests that
 * must tell a real rendering from a blank one.
 * @module
 */
import { inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
}

/** Reads the IHDR of a PNG. @throws when the bytes are not a PNG. */
export function pngInfo(png: Uint8Array): PngInfo {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 33 || !b.subarray(0, 8).equals(SIGNATURE) || b.toString('latin1', 12, 16) !== 'IHDR')
    throw new Error('not a PNG (bad signature or missing IHDR)');
  return {
    width: b.readUInt32BE(16),
    height: b.readUInt32BE(20),
    bitDepth: b[24] ?? 0,
    colorType: b[25] ?? 0,
    interlaced: (b[28] ?? 0) !== 0,
  };
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** Decoded pixels, `channels` bytes per pixel, row-major. */
export interface PngPixels extends PngInfo {
  channels: number;
  data: Uint8Array;
}

/** Decodes an 8-bit non-interlaced, non-palette PNG. @throws on other kinds. */
export function decodePng(png: Uint8Array): PngPixels {
  const info = pngInfo(png);
  const channels = CHANNELS[info.colorType];
  if (info.bitDepth !== 8 || info.interlaced || channels === undefined)
    throw new Error(
      `unsupported PNG: bit depth ${info.bitDepth}, colour type ${info.colorType}, interlaced ${info.interlaced}`,
    );
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const idat: Buffer[] = [];
  for (let off = 8; off + 8 <= b.length;) {
    const len = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    if (type === 'IDAT') idat.push(b.subarray(off + 8, off + 8 + len));
    if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = info.width * channels;
  if (raw.length < (stride + 1) * info.height) throw new Error('truncated PNG image data');
  const out = new Uint8Array(stride * info.height);
  // undo the per-scanline filters (the PNG specification's section 9): None, Sub, Up, Average, Paeth
  for (let y = 0; y < info.height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[dst + x - channels]! : 0;
      const up = y > 0 ? out[dst - stride + x]! : 0;
      const c = y > 0 && x >= channels ? out[dst - stride + x - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = up;
      else if (filter === 3) pred = (a + up) >> 1;
      else if (filter === 4) {
        const p = a + up - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
      } else if (filter !== 0) throw new Error(`bad PNG filter ${filter} on row ${y}`);
      out[dst + x] = (raw[src + x]! + pred) & 0xff;
    }
  }
  return { ...info, channels, data: out };
}

/** Number of distinct colours (up to `limit`, to stay cheap on big images). */
export function countColors(p: PngPixels, limit = 1 << 16): number {
  const seen = new Set<number>();
  for (let i = 0; i < p.data.length && seen.size < limit; i += p.channels) {
    let key = 0;
    for (let k = 0; k < p.channels; k++) key = key * 256 + p.data[i + k]!;
    seen.add(key);
  }
  return seen.size;
}
