// Known-answer scenes for the synthesis and blending tests and bench: a procedural texture, a
// deterministic "style" filter, and frames made by warping with a known motion (plus an occluder).
import type { Image } from '../../native-models/src/image';

/** Deterministic pseudo-random numbers in [0, 1). */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/** A colourful texture with structure at several scales, so that every patch is distinctive. */
export function texture(width: number, height: number, seed = 1): Image {
  const rnd = random(seed);
  const waves = Array.from({ length: 9 }, () => ({
    fx: (rnd() - 0.5) * 0.5, fy: (rnd() - 0.5) * 0.5, phase: rnd() * 6.28, channel: Math.floor(rnd() * 3), amp: 30 + rnd() * 40,
  }));
  const blobs = Array.from({ length: Math.max(4, Math.round((width * height) / 400)) }, () => ({
    x: rnd() * width, y: rnd() * height, r: 2 + rnd() * 6, c: [rnd(), rnd(), rnd()].map((v) => (v - 0.5) * 160),
  }));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = [128, 128, 128];
      for (const w of waves) v[w.channel] += w.amp * Math.sin(w.fx * x + w.fy * y + w.phase);
      for (const b of blobs) {
        const d2 = (x - b.x) ** 2 + (y - b.y) ** 2;
        if (d2 < b.r * b.r * 4) {
          const k = Math.exp(-d2 / (b.r * b.r));
          for (let c = 0; c < 3; c++) v[c] += k * b.c[c];
        }
      }
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v[c])));
    }
  return { width, height, channels: 3, data };
}

/** The "style": posterise to 4 levels, shift colours, overlay diagonal stripes tied to the content. */
export function stylise(im: Image): Image {
  const out = new Uint8Array(im.data.length);
  for (let y = 0; y < im.height; y++)
    for (let x = 0; x < im.width; x++) {
      const i = (y * im.width + x) * 3;
      const stripe = (x + y) % 8 < 2 ? -40 : 0;
      const r = Math.floor(im.data[i] / 64) * 64 + 32, g = Math.floor(im.data[i + 1] / 64) * 64 + 32, b = Math.floor(im.data[i + 2] / 64) * 64 + 32;
      out[i] = Math.max(0, Math.min(255, 0.5 * g + 0.5 * b + 20 + stripe));
      out[i + 1] = Math.max(0, Math.min(255, r * 0.8 + stripe));
      out[i + 2] = Math.max(0, Math.min(255, 255 - g + stripe));
    }
  return { width: im.width, height: im.height, channels: 3, data: out };
}

/** A motion given as a backward map: the target pixel (x, y) shows the source at motion(x, y). */
export type Motion = (x: number, y: number) => [number, number];

export function rigidMotion(width: number, height: number, dx: number, dy: number, degrees = 0): Motion {
  const a = (degrees * Math.PI) / 180, cx = width / 2, cy = height / 2, c = Math.cos(a), s = Math.sin(a);
  return (x, y) => [cx + c * (x - cx) - s * (y - cy) - dx, cy + s * (x - cx) + c * (y - cy) - dy];
}

export interface Occluder { x: number; y: number; size: number }

/**
 * Warps `im` by `motion` (bilinear, edge-clamped) and paints an occluder square (a flat grey-green
 * block absent from the source). `valid` marks pixels whose content came from inside the source and
 * is not occluded.
 */
export function warp(im: Image, motion: Motion, occluder?: Occluder): { image: Image; valid: Uint8Array } {
  const { width: w, height: h, channels: ch } = im;
  const data = new Uint8Array(im.data.length), valid = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [sx, sy] = motion(x, y);
      const inside = sx >= 0 && sy >= 0 && sx <= w - 1 && sy <= h - 1;
      const occluded = occluder !== undefined && x >= occluder.x && x < occluder.x + occluder.size && y >= occluder.y && y < occluder.y + occluder.size;
      valid[y * w + x] = inside && !occluded ? 1 : 0;
      const fx = Math.min(Math.max(sx, 0), w - 1), fy = Math.min(Math.max(sy, 0), h - 1);
      const x0 = Math.min(Math.floor(fx), w - 2), y0 = Math.min(Math.floor(fy), h - 2), ax = fx - x0, ay = fy - y0;
      for (let c = 0; c < ch; c++) {
        const at = (xx: number, yy: number) => im.data[(yy * w + xx) * ch + c];
        const v = (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x0 + 1, y0)) + ay * ((1 - ax) * at(x0, y0 + 1) + ax * at(x0 + 1, y0 + 1));
        data[(y * w + x) * ch + c] = occluded ? [90, 160, 90][c % 3] : Math.round(v);
      }
    }
  return { image: { width: w, height: h, channels: ch, data }, valid };
}

/** Mean absolute difference per channel value over pixels where `mask` is set, eroded by `margin`. */
export function meanAbsDiff(a: Image, b: Image, mask?: Uint8Array, margin = 0): number {
  let sum = 0, n = 0;
  for (let y = margin; y < a.height - margin; y++)
    for (let x = margin; x < a.width - margin; x++) {
      let ok = true;
      for (let dy = -margin; dy <= margin && ok; dy++)
        for (let dx = -margin; dx <= margin && ok; dx++) if (mask && !mask[(y + dy) * a.width + x + dx]) ok = false;
      if (!ok) continue;
      for (let c = 0; c < a.channels; c++) sum += Math.abs(a.data[(y * a.width + x) * a.channels + c] - b.data[(y * b.width + x) * b.channels + c]);
      n += a.channels;
    }
  return sum / Math.max(1, n);
}
