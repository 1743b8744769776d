// Synthetic frame pairs with known optical flow: a procedural texture (sinusoids + value noise)
// rendered before and after known motions, so ground-truth flow and occlusion are exact.
import type { FlowField, Image } from '../../native-models/src/image';

type Point = [number, number];
/** A motion of one layer: where a point of frame a goes in frame b, and back. */
export interface Motion {
  forward(p: Point): Point;
  inverse(q: Point): Point;
}

export function translation(dx: number, dy: number): Motion {
  return { forward: ([x, y]) => [x + dx, y + dy], inverse: ([x, y]) => [x - dx, y - dy] };
}

/** Rotation by `degrees` and uniform scaling by `scale` about (cx, cy). */
export function similarity(cx: number, cy: number, degrees: number, scale: number): Motion {
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t), s = Math.sin(t);
  return {
    forward: ([x, y]) => [cx + scale * (c * (x - cx) - s * (y - cy)), cy + scale * (s * (x - cx) + c * (y - cy))],
    inverse: ([x, y]) => [cx + (c * (x - cx) + s * (y - cy)) / scale, cy + (-s * (x - cx) + c * (y - cy)) / scale],
  };
}

function hash(ix: number, iy: number, seed: number): number {
  let h = (Math.imul(ix, 374761393) + Math.imul(iy, 668265263) + Math.imul(seed, 2147483647)) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x), iy = Math.floor(y);
  const fx = x - ix, fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
  const a = hash(ix, iy, seed), b = hash(ix + 1, iy, seed), c = hash(ix, iy + 1, seed), d = hash(ix + 1, iy + 1, seed);
  return a + sx * (b - a) + sy * (c + sx * (d - c) - a - sx * (b - a));
}

/** A continuous RGB texture (values about 0..255) defined on the whole plane. */
export type Texture = (x: number, y: number, out: Float64Array) => void;

export function makeTexture(seed: number): Texture {
  const waves = Array.from({ length: 6 }, (_, k) => {
    const period = 7 + 50 * hash(k, 1, seed);
    const angle = 2 * Math.PI * hash(k, 2, seed);
    const f = (2 * Math.PI) / period;
    return { fx: f * Math.cos(angle), fy: f * Math.sin(angle), amp: 10 + 12 * hash(k, 3, seed), phase: [0, 1, 2].map((c) => 6.28 * hash(k, 4 + c, seed)) };
  });
  return (x, y, out) => {
    const n1 = valueNoise(x / 23, y / 23, seed) - 0.5, n2 = valueNoise(x / 6, y / 6, seed + 7) - 0.5;
    for (let c = 0; c < 3; c++) {
      let v = 128 + 70 * n1 + 45 * n2;
      for (const w of waves) v += w.amp * Math.sin(w.fx * x + w.fy * y + w.phase[c]);
      out[c] = v;
    }
  };
}

export interface SceneLayer {
  texture: Texture;
  motion: Motion;
  /** Whether a point of frame a belongs to this layer (omit for the background). */
  contains?: (p: Point) => boolean;
}

export interface FlowScene {
  a: Image;
  b: Image;
  /** True a→b flow on a's grid. */
  forward: FlowField;
  /** True b→a flow on b's grid. */
  backward: FlowField;
  /** Pixels of b not visible in a (1 = occluded): revealed background or content from outside. */
  occluded: Uint8Array;
}

/** Renders a background layer and optional foreground layers (later layers on top) before and after their motions. */
export function renderScene(width: number, height: number, layers: SceneLayer[]): FlowScene {
  const n = width * height;
  const a: Image = { width, height, channels: 3, data: new Uint8Array(n * 3) };
  const b: Image = { width, height, channels: 3, data: new Uint8Array(n * 3) };
  const forward: FlowField = { width, height, channels: 2, data: new Float32Array(n * 2) };
  const backward: FlowField = { width, height, channels: 2, data: new Float32Array(n * 2) };
  const occluded = new Uint8Array(n);
  const rgb = new Float64Array(3);
  const inFrame = ([x, y]: Point) => x >= 0 && y >= 0 && x <= width - 1 && y <= height - 1;
  const topLayerAt = (p: Point): number => {
    for (let k = layers.length - 1; k > 0; k--) if (layers[k].contains!(p)) return k;
    return 0;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      // Frame a: the top layer at p, and where it goes.
      const la = layers[topLayerAt([x, y])];
      la.texture(x, y, rgb);
      for (let c = 0; c < 3; c++) a.data[i * 3 + c] = Math.max(0, Math.min(255, Math.round(rgb[c])));
      const [fx, fy] = la.motion.forward([x, y]);
      forward.data[i * 2] = fx - x;
      forward.data[i * 2 + 1] = fy - y;
      // Frame b: the top layer whose moved region covers q.
      let k = layers.length - 1;
      for (; k > 0; k--) if (layers[k].contains!(layers[k].motion.inverse([x, y]))) break;
      const lb = layers[k];
      const src = lb.motion.inverse([x, y]);
      lb.texture(src[0], src[1], rgb);
      for (let c = 0; c < 3; c++) b.data[i * 3 + c] = Math.max(0, Math.min(255, Math.round(rgb[c])));
      backward.data[i * 2] = src[0] - x;
      backward.data[i * 2 + 1] = src[1] - y;
      occluded[i] = !inFrame(src) || topLayerAt(src) !== k ? 1 : 0;
    }
  }
  return { a, b, forward, backward, occluded };
}

export function disc(cx: number, cy: number, r: number): (p: Point) => boolean {
  return ([x, y]) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** The standard scenes of the flow tests and bench, scaled to the frame size. */
export function standardScenes(width: number, height: number, seed = 1): Array<{ name: string; scene: () => FlowScene }> {
  const cx = (width - 1) / 2, cy = (height - 1) / 2, s = Math.min(width, height) / 512;
  const bg = makeTexture(seed), fg = makeTexture(seed + 100);
  return [
    { name: 'translation', scene: () => renderScene(width, height, [{ texture: bg, motion: translation(7.3 * s, -4.6 * s) }]) },
    { name: 'rotation', scene: () => renderScene(width, height, [{ texture: bg, motion: similarity(cx, cy, 3, 1) }]) },
    { name: 'zoom', scene: () => renderScene(width, height, [{ texture: bg, motion: similarity(cx, cy, 0, 1.06) }]) },
    {
      name: 'two objects',
      scene: () => renderScene(width, height, [
        { texture: bg, motion: translation(3 * s, 1.5 * s) },
        { texture: fg, motion: translation(-9 * s, 6 * s), contains: disc(cx - 0.1 * width, cy, 0.22 * Math.min(width, height)) },
      ]),
    },
  ];
}

/** Mean end-point error of `flow` against `truth`, optionally only where `mask` is 0. */
export function endPointError(flow: FlowField, truth: FlowField, skip?: Uint8Array): number {
  let sum = 0, count = 0;
  for (let i = 0; i < flow.width * flow.height; i++) {
    if (skip && skip[i]) continue;
    sum += Math.hypot(flow.data[2 * i] - truth.data[2 * i], flow.data[2 * i + 1] - truth.data[2 * i + 1]);
    count++;
  }
  return count ? sum / count : 0;
}
