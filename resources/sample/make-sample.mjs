// Renders the bundled sample clip from scratch (procedural landscape, parallax camera pan, a moving
// kite, a gentle tone), so every pixel of it is ours to ship, and paints the first keyframes from the
// same frames (flattened and posterised, a watercolour-like look), so a new user without Stable
// Diffusion weights can propagate and export at once. The painted images go where
// `rerender import-keyframe --painted` puts them (sample.assets/keyframe-<id>-r1.png, at the working
// size) and sample.rerender records them; the other keyframes stay diffusion keyframes to render.
// Run: node resources/sample/make-sample.mjs [--keyframes-only]   (--keyframes-only: keep sample.mp4)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const W = 768, H = 432, FPS = 24, FRAMES = 72;
/** How many keyframes, from the first, get a painted image (the rest are left to render). */
const PAINTED = 3;
const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'sample.mp4');
const projectFile = path.join(here, 'sample.rerender');

// Deterministic value noise with a few octaves: rock, grass and cloud texture.
function hash(x, y, s) {
  let h = (x * 374761393 + y * 668265263 + s * 2147483647) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967295;
}
function smooth(t) { return t * t * (3 - 2 * t); }
function noise(x, y, s) {
  const xi = Math.floor(x), yi = Math.floor(y), fx = smooth(x - xi), fy = smooth(y - yi);
  const a = hash(xi, yi, s), b = hash(xi + 1, yi, s), c = hash(xi, yi + 1, s), d = hash(xi + 1, yi + 1, s);
  return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
}
function fbm(x, y, s, octaves = 5) {
  let v = 0, amp = 0.5, f = 1;
  for (let i = 0; i < octaves; i++) { v += amp * noise(x * f, y * f, s + i); amp *= 0.5; f *= 2; }
  return v;
}
const mix = (a, b, t) => a + (b - a) * t;

// Layers as height profiles over a wide world; each scrolls at its own speed (parallax).
const layers = [
  { speed: 0.15, base: 0.42, amp: 0.16, scale: 0.004, seed: 11, col: [112, 128, 170], tex: 0.10 },
  { speed: 0.45, base: 0.58, amp: 0.12, scale: 0.007, seed: 23, col: [70, 110, 80], tex: 0.22 },
  { speed: 1.00, base: 0.74, amp: 0.10, scale: 0.012, seed: 37, col: [120, 150, 60], tex: 0.35 },
  { speed: 1.80, base: 0.90, amp: 0.08, scale: 0.020, seed: 41, col: [95, 70, 45], tex: 0.45 },
];

function renderFrame(t) {
  const buf = Buffer.alloc(W * H * 3);
  const pan = t * 6; // pixels per frame for the nearest-speed-1 layer
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = y / H;
      // Sky: gradient with drifting clouds and a sun.
      let r = mix(110, 235, v * 1.6), g = mix(160, 200, v * 1.4), b = mix(230, 210, v);
      const cloud = Math.max(0, fbm((x + pan * 0.05) * 0.01, y * 0.02, 5) - 0.5) * 2.2;
      r = mix(r, 250, cloud); g = mix(g, 250, cloud); b = mix(b, 252, cloud);
      const sd = Math.hypot(x - W * 0.78, y - H * 0.2);
      if (sd < 34) { r = 255; g = 236; b = 180; } else if (sd < 60) { const k = (60 - sd) / 26 * 0.5; r = mix(r, 255, k); g = mix(g, 230, k); b = mix(b, 170, k); }
      for (const L of layers) {
        const wx = x + pan * L.speed;
        const ridge = L.base - L.amp * fbm(wx * L.scale, 0.5, L.seed, 4) * 1.6;
        if (v > ridge) {
          const depth = Math.min(1, (v - ridge) * 6);
          const tx = fbm(wx * 0.08, y * 0.08, L.seed + 100, 4);
          const shade = 0.75 + 0.5 * (tx - 0.5) * (1 + L.tex * 4) - 0.15 * depth;
          r = L.col[0] * shade; g = L.col[1] * shade; b = L.col[2] * shade;
          // Stripes of rock strata on the nearest layer, bushes on the third.
          if (L.seed === 41 && Math.sin((wx + y * 0.6) * 0.15) > 0.85) { r *= 0.7; g *= 0.7; b *= 0.75; }
          if (L.seed === 37 && noise(wx * 0.05, y * 0.05, 77) > 0.78) { r = 40; g = 85 + 40 * tx; b = 35; }
        }
      }
      const i = (y * W + x) * 3;
      buf[i] = Math.max(0, Math.min(255, r)); buf[i + 1] = Math.max(0, Math.min(255, g)); buf[i + 2] = Math.max(0, Math.min(255, b));
    }
  }
  // A kite crossing the sky on a curve (an independently moving object that occludes).
  const kx = 80 + t * 8, ky = 120 + 30 * Math.sin(t * 0.15);
  for (let y = -22; y <= 22; y++) for (let x = -16; x <= 16; x++) {
    if (Math.abs(x) / 16 + Math.abs(y) / 22 > 1) continue;
    const px = Math.round(kx + x), py = Math.round(ky + y);
    if (px < 0 || py < 0 || px >= W || py >= H) continue;
    const i = (py * W + px) * 3;
    const red = (x > 0) !== (y > 0);
    buf[i] = red ? 220 : 250; buf[i + 1] = red ? 40 : 210; buf[i + 2] = red ? 50 : 40;
  }
  return buf;
}

/**
 * The keyframe at `frame` painted: its frame at the working size (scaled to cover and centre-cropped, as
 * the frames are decoded), smoothed into flat washes and posterised to a few colours, as a PNG.
 */
async function paintKeyframe(frame, width, height) {
  return sharp(renderFrame(frame), { raw: { width: W, height: H, channels: 3 } })
    .resize(width, height, { fit: 'cover', position: 'centre' })
    .median(9)
    .modulate({ saturation: 1.35, brightness: 1.04 })
    .png({ palette: true, colours: 16, dither: 0, compressionLevel: 9 })
    .toBuffer();
}

/** Writes the painted keyframes beside the project and records them in it (source painted, done, revision 1). */
async function writePaintedKeyframes() {
  const project = JSON.parse(fs.readFileSync(projectFile, 'utf8'));
  const assets = path.join(here, `${path.basename(projectFile, '.rerender')}.assets`);
  fs.rmSync(assets, { recursive: true, force: true });
  fs.mkdirSync(assets);
  const { width, height } = project.working;
  project.keyframes = await Promise.all(project.keyframes.map(async (k, i) => {
    if (i >= PAINTED) return { ...k, source: 'diffusion', image: null, status: 'empty', revision: 0, history: [] };
    const name = `keyframe-${k.id}-r1.png`;
    fs.writeFileSync(path.join(assets, name), await paintKeyframe(k.frame, width, height));
    return { ...k, source: 'painted', image: `${path.basename(assets)}/${name}`, status: 'done', revision: 1, history: [] };
  }));
  fs.writeFileSync(projectFile, `${JSON.stringify(project, null, 2)}\n`);
  console.log(`painted ${PAINTED} keyframes into ${assets}`);
}

await writePaintedKeyframes();
if (process.argv.includes('--keyframes-only')) process.exit(0);

const ff = spawn(process.env.RERENDER_FFMPEG || 'ffmpeg', [
  '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-r', String(FPS), '-i', 'pipe:0',
  '-f', 'lavfi', '-i', `sine=frequency=220:sample_rate=44100:duration=${FRAMES / FPS}`,
  '-af', 'volume=0.2', '-c:v', 'libx264', '-preset', 'slow', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k',
  '-shortest', '-movflags', '+faststart', out,
], { stdio: ['pipe', 'inherit', 'inherit'] });
for (let t = 0; t < FRAMES; t++) {
  if (!ff.stdin.write(renderFrame(t))) await new Promise((r) => ff.stdin.once('drain', r));
}
ff.stdin.end();
ff.on('close', (code) => { if (code) process.exit(code); console.log(`wrote ${out}`); });
