// Flow benchmark: end-point error and ms per frame pair at 512×512 for the native estimator and,
// when Debian's python3-opencv is installed, OpenCV's DIS "medium" preset on the same pairs; then 4K timing.
// Options: --preset=fast|balanced|accurate (default all three), --repeats=N (default 15), --no-4k, --only-real
// (just the same-work comparison on real frames, at the end).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { computeFlow, computeForwardFlow, type FlowPreset } from '../../native-models/src/flow';
import type { FlowField, Image } from '../../native-models/src/image';
import { endPointError, standardScenes, valueNoise } from '../helpers/flow-scenes';
import { execFileSync } from 'node:child_process';
import { readRgb } from '../../main/engine/media/image-files';
import { writeFlo } from '../../native-models/src/flo';
import sharp from 'sharp';

const SIZE = 512;
const REPEATS = Number(process.argv.find((a) => a.startsWith('--repeats='))?.slice(10) ?? 15);
const PYTHON = '/usr/bin/python3';

// A DIS "medium" server: writes its flow for each raw RGB pair, then times one run per request
// line, so its timings interleave with ours and see the same machine load.
const DIS_SERVER = `
import sys, json, time, numpy as np, cv2
w, h = int(sys.argv[1]), int(sys.argv[2])
pairs = []
for stem in sys.argv[3:]:
    a = np.fromfile(stem + '.a', np.uint8).reshape(h, w, 3)
    b = np.fromfile(stem + '.b', np.uint8).reshape(h, w, 3)
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    dis.calc(ga, gb, None).astype(np.float32).tofile(stem + '.dis')
    pairs.append((dis, ga, gb))
print(json.dumps({'threads': cv2.getNumThreads(), 'version': cv2.__version__}), flush=True)
for line in sys.stdin:
    dis, ga, gb = pairs[int(line)]
    t = time.perf_counter(); dis.calc(ga, gb, None)
    print((time.perf_counter() - t) * 1000, flush=True)
`;

async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

interface DisServer { note: string; flows: FlowField[]; time(i: number): Promise<number>; close(): void }

async function startDis(stems: string[], width: number, height: number): Promise<DisServer | undefined> {
  if (!fs.existsSync(PYTHON)) return undefined;
  const child = spawn(PYTHON, ['-c', DIS_SERVER, String(width), String(height), ...stems], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = readline.createInterface({ input: child.stdout });
  const queue: Array<(line: string) => void> = [];
  lines.on('line', (line) => queue.shift()?.(line));
  const next = () => new Promise<string>((resolve) => queue.push(resolve));
  const ended = new Promise<undefined>((resolve) => child.on('exit', () => resolve(undefined)));
  const first = await Promise.race([next(), ended]);
  if (first === undefined) return undefined;  // no cv2 in that Python
  const info = JSON.parse(first) as { threads: number; version: string };
  const flows = stems.map((s) => {
    const buf = fs.readFileSync(s + '.dis');
    return { width, height, channels: 2 as const, data: new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4) };
  });
  return {
    note: `OpenCV ${info.version}, ${info.threads} threads`,
    flows,
    async time(i) { const reply = next(); child.stdin.write(`${i}\n`); return Number(await reply); },
    close() { child.stdin.end(); },
  };
}

/** Two octaves of value noise shifted by (dx, dy): cheap enough to paint at 4K. */
function paintNoise(width: number, height: number, dx: number, dy: number): Image {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const X = x - dx, Y = y - dy;
    const v = 255 * (0.65 * valueNoise(X / 19, Y / 19, 3) + 0.35 * valueNoise(X / 6, Y / 6, 4));
    data[(y * width + x) * 3] = v;
    data[(y * width + x) * 3 + 1] = 255 - v;
    data[(y * width + x) * 3 + 2] = 0.5 * v + 60;
  }
  return { width, height, channels: 3, data };
}

async function main(): Promise<void> {
  if (process.argv.includes('--only-real')) return;
  const presetArg = process.argv.find((a) => a.startsWith('--preset='))?.slice(9) as FlowPreset | undefined;
  const presets: FlowPreset[] = presetArg ? [presetArg] : ['fast', 'balanced', 'accurate'];
  console.log(`flow bench: ${SIZE}×${SIZE}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flow-bench-'));
  const scenes = standardScenes(SIZE, SIZE).map(({ name, scene }) => ({ name, ...scene() }));
  const stems = scenes.map((s, i) => {
    const stem = path.join(dir, String(i));
    fs.writeFileSync(stem + '.a', s.a.data);
    fs.writeFileSync(stem + '.b', s.b.data);
    return stem;
  });
  const dis = await startDis(stems, SIZE, SIZE);
  if (!dis) console.log('OpenCV DIS column skipped: /usr/bin/python3 with cv2 not available (apt-get install python3-opencv)');
  else console.log(`DIS medium: ${dis.note}`);
  console.log(`times: fastest of ${REPEATS} interleaved runs; EPE: mean end-point error over all pixels (px)`);

  const header = ['scene', ...presets.flatMap((p) => [`${p} EPE`, `${p} ms/fwd`, `${p} ms/fwd+bwd`]), ...(dis ? ['DIS EPE', 'DIS ms/fwd'] : [])];
  console.log(header.join(' | '));
  const sums = new Map<string, number>();
  const add = (k: string, v: number) => sums.set(k, (sums.get(k) ?? 0) + v);
  for (const [i, s] of scenes.entries()) {
    const epe = new Map<string, number>();
    for (const preset of presets) epe.set(preset, endPointError(await computeForwardFlow(s.a, s.b, { preset }), s.forward));
    // The fastest of the runs counts: on a shared machine, other load only ever adds time.
    const best = new Map<string, number>();
    const keep = (k: string, ms: number) => best.set(k, Math.min(best.get(k) ?? Infinity, ms));
    for (let r = 0; r < REPEATS; r++) {
      for (const preset of presets) {
        keep(`${preset} fwd`, await timeOnce(() => computeForwardFlow(s.a, s.b, { preset })));
        keep(`${preset} both`, await timeOnce(() => computeFlow(s.a, s.b, { preset })));
      }
      if (dis) keep('DIS fwd', await dis.time(i));
    }
    const row: string[] = [s.name];
    for (const preset of presets) {
      row.push(epe.get(preset)!.toFixed(3), best.get(`${preset} fwd`)!.toFixed(1), best.get(`${preset} both`)!.toFixed(1));
      add(`${preset} EPE`, epe.get(preset)!); add(`${preset} fwd`, best.get(`${preset} fwd`)!); add(`${preset} both`, best.get(`${preset} both`)!);
    }
    if (dis) {
      const e = endPointError(dis.flows[i], s.forward);
      row.push(e.toFixed(3), best.get('DIS fwd')!.toFixed(1));
      add('DIS EPE', e); add('DIS fwd', best.get('DIS fwd')!);
    }
    console.log(row.join(' | '));
  }
  dis?.close();
  const n = scenes.length;
  const mean = ['mean', ...presets.flatMap((p) => [(sums.get(`${p} EPE`)! / n).toFixed(3), (sums.get(`${p} fwd`)! / n).toFixed(1), (sums.get(`${p} both`)! / n).toFixed(1)])];
  if (dis) mean.push((sums.get('DIS EPE')! / n).toFixed(3), (sums.get('DIS fwd')! / n).toFixed(1));
  console.log(mean.join(' | '));
  console.log('(ms/fwd: one direction with every core; ms/fwd+bwd: both directions in one call, as the editor uses it)');

  if (!process.argv.includes('--no-4k')) {
    const [w, h, dx, dy] = [3840, 2160, 12, -7];
    const a = paintNoise(w, h, 0, 0), b = paintNoise(w, h, dx, dy);
    for (const preset of presets) {
      const t = performance.now();
      const { forward } = await computeFlow(a, b, { preset });
      const ms = performance.now() - t;
      let sum = 0, n = 0;
      for (let y = 64; y < h - 64; y += 5) for (let x = 64; x < w - 64; x += 5) {
        const i = y * w + x;
        sum += Math.hypot(forward.data[2 * i] - dx, forward.data[2 * i + 1] - dy);
        n++;
      }
      console.log(`4K (3840×2160) forward+backward, ${preset}: ${ms.toFixed(0)} ms, interior EPE ${(sum / n).toFixed(3)} (translation ${dx}, ${dy})`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

// The same work as DIS-medium in a script: read both frames (PNG), compute one direction, write the
// .flo. Real frames (the sample, and the real clip in ../shared/clips when present) against the same
// frame warped by a smooth known field g: b(q) = a(q + g(q)), so the flow from b to a is exactly g;
// and one pair with occlusion made of two real frames as layers (punchScene).
const DIS_SAME_WORK = `
import sys, time, numpy as np, cv2
a_png, b_png, out, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
best_wall = best_cpu = best_calc = 1e9
for r in range(repeats):
    t, c = time.perf_counter(), time.process_time()
    ga = cv2.cvtColor(cv2.imread(b_png), cv2.COLOR_BGR2GRAY)
    gb = cv2.cvtColor(cv2.imread(a_png), cv2.COLOR_BGR2GRAY)
    c1 = time.process_time()
    f = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(ga, gb, None)
    c2 = time.process_time()
    with open(out, 'wb') as fh:
        np.array([202021.25], np.float32).tofile(fh); np.array([f.shape[1], f.shape[0]], np.int32).tofile(fh); f.astype(np.float32).tofile(fh)
    best_wall, best_cpu = min(best_wall, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
    best_calc = min(best_calc, c2 - c1)
print(best_wall * 1000, best_cpu * 1000, best_calc * 1000)
`;

/** A smooth field of a few sinusoids, up to about 7 px times `scale`; `phase` shifts the pattern. */
function smoothField(w: number, h: number, scale = 1, phase = 0): FlowField {
  const data = new Float32Array(w * h * 2);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    data[2 * (y * w + x)] = scale * (4 * Math.sin(x / 61 + 0.7 + phase) + 2.5 * Math.cos(y / 43 + phase));
    data[2 * (y * w + x) + 1] = scale * (3 * Math.cos(x / 53 + phase) + 2 * Math.sin((x + y) / 71 + 1.3 + phase));
  }
  return { width: w, height: h, channels: 2, data };
}

function warpBilinear(a: Image, g: FlowField): Image {
  const { width: w, height: h, channels: c } = a;
  const out = new Uint8Array(a.data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const sx = Math.min(w - 1.001, Math.max(0, x + g.data[2 * (y * w + x)])), sy = Math.min(h - 1.001, Math.max(0, y + g.data[2 * (y * w + x) + 1]));
    const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
    for (let k = 0; k < c; k++) {
      const p = (yy: number, xx: number) => a.data[(yy * w + xx) * c + k];
      out[(y * w + x) * c + k] = Math.round((1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x0 + 1)) + fy * ((1 - fx) * p(y0 + 1, x0) + fx * p(y0 + 1, x0 + 1)));
    }
  }
  return { width: w, height: h, channels: c, data: out };
}

/** Mean end-point error against `truth` away from a 16 px border (where the warp clamps), over the
 * pixels where `only` is set (all when absent). */
function interiorEpe(f: FlowField, truth: FlowField, only?: (i: number) => boolean): number {
  let sum = 0, n = 0;
  for (let y = 16; y < f.height - 16; y++) for (let x = 16; x < f.width - 16; x++) {
    if (only && !only(y * f.width + x)) continue;
    const i = 2 * (y * f.width + x);
    sum += Math.hypot(f.data[i] - truth.data[i], f.data[i + 1] - truth.data[i + 1]);
    n++;
  }
  return sum / n;
}

/** `base` with a disc of radius r about (cx, cy) moved rigidly by (dx, dy): a motion edge. */
function withDisc(base: FlowField, cx: number, cy: number, r: number, dx: number, dy: number): FlowField {
  const data = base.data.slice();
  for (let y = 0; y < base.height; y++) for (let x = 0; x < base.width; x++) {
    if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) { data[2 * (y * base.width + x)] = dx; data[2 * (y * base.width + x) + 1] = dy; }
  }
  return { ...base, data };
}

/** A similarity about (cx, cy): scale s, rotation `degrees`, then a shift by (tx, ty). */
function similarityMap(cx: number, cy: number, s: number, degrees: number, tx: number, ty: number) {
  const t = (degrees * Math.PI) / 180, c = Math.cos(t), n = Math.sin(t);
  return {
    forward: (x: number, y: number): [number, number] => [cx + tx + s * (c * (x - cx) - n * (y - cy)), cy + ty + s * (n * (x - cx) + c * (y - cy))],
    inverse: (x: number, y: number): [number, number] => { const X = x - cx - tx, Y = y - cy - ty; return [cx + (c * X + n * Y) / s, cy + (-n * X + c * Y) / s]; },
  };
}

function sampleRgb(img: Image, x: number, y: number, k: number): number {
  const { width: w, height: h, channels: c } = img;
  const sx = Math.min(w - 1.001, Math.max(0, x)), sy = Math.min(h - 1.001, Math.max(0, y));
  const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
  const p = (yy: number, xx: number) => img.data[(yy * w + xx) * c + k];
  return (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x0 + 1)) + fy * ((1 - fx) * p(y0 + 1, x0) + fx * p(y0 + 1, x0 + 1));
}

/**
 * Two real frames as layers, like a fist punching towards the camera: `object` (an ellipse about
 * (cx, cy) with radii rx, ry) grows by `scale` and moves by (tx, ty) in front of `background`, which
 * pans by (px, py). Returns both frames, the true flow from the first to the second on the first's
 * grid, and the first frame's pixels hidden in the second (covered by the object, or out of view).
 */
function punchScene(background: Image, object: Image, cx: number, cy: number, rx: number, ry: number, scale: number, tx: number, ty: number, px: number, py: number) {
  const { width: w, height: h } = background;
  const inside = (x: number, y: number) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
  const obj = similarityMap(cx, cy, scale, 0, tx, ty), bg = similarityMap(cx, cy, 1, 0, px, py);
  const first = new Uint8Array(w * h * 3), second = new Uint8Array(w * h * 3);
  const truth: FlowField = { width: w, height: h, channels: 2, data: new Float32Array(w * h * 2) };
  const hidden = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x, mine = inside(x, y);
    for (let k = 0; k < 3; k++) first[i * 3 + k] = (mine ? object : background).data[i * 3 + k];
    const [fx, fy] = (mine ? obj : bg).forward(x, y);
    truth.data[2 * i] = fx - x; truth.data[2 * i + 1] = fy - y;
    hidden[i] = !mine && (inside(...obj.inverse(fx, fy)) || fx < 0 || fy < 0 || fx > w - 1 || fy > h - 1) ? 1 : 0;
    const [ox, oy] = obj.inverse(x, y);
    const onObject = inside(ox, oy);
    const [sx, sy] = onObject ? [ox, oy] : bg.inverse(x, y);
    for (let k = 0; k < 3; k++) second[i * 3 + k] = Math.round(sampleRgb(onObject ? object : background, sx, sy, k));
  }
  return { first: { width: w, height: h, channels: 3 as const, data: first }, second: { width: w, height: h, channels: 3 as const, data: second }, truth, hidden };
}

async function sameWork(dir: string): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const sample = path.join(root, 'resources/sample/sample.mp4');
  // [name, video, ffmpeg filter picking one 512² frame, the known field]
  const grab = async (video: string, filter: string, png: string): Promise<Image> => {
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', video, '-vf', filter, '-frames:v', '1', png]);
    return readRgb(png);
  };
  const writePng = (img: Image, png: string) => sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(png);
  // Each case writes the pair the timed jobs read (b.png first, a.png second) and returns the true
  // flow from the first to the second, and for a case with occlusion the first frame's hidden pixels.
  type Case = [string, (aPng: string, bPng: string) => Promise<{ truth: FlowField; hidden?: Uint8Array }>];
  // A real frame and the same frame warped by a known field g: b(q) = a(q + g(q)), so the flow from b to a is exactly g.
  const warped = (name: string, video: string, filter: string, field: (w: number, h: number) => FlowField): Case => [name, async (aPng, bPng) => {
    const a = await grab(video, filter, aPng);
    const g = field(a.width, a.height);
    await writePng(warpBilinear(a, g), bPng);
    return { truth: g };
  }];
  const sources: Case[] = [
    warped('sample frame 5', sample, 'select=eq(n\\,5),crop=ih:ih,scale=512:512', (w, h) => smoothField(w, h)),
    warped('sample frame 60', sample, 'select=eq(n\\,60),crop=ih:ih:300:0,scale=512:512', (w, h) => smoothField(w, h, 1, 3.3)),
  ];
  const clip = path.resolve(root, '..', 'shared', 'clips', 'portrait-talk-540x960-25fps.mp4');
  if (fs.existsSync(clip)) {
    sources.push(
      warped('real clip frame 40', clip, 'select=eq(n\\,40),crop=iw:iw,scale=512:512', (w, h) => smoothField(w, h)),
      warped('real clip frame 200', clip, 'select=eq(n\\,200),crop=iw:iw:0:ih-iw,scale=512:512', (w, h) => smoothField(w, h, 1, 2.1)),
      // Fast motion: the field three times as strong (up to ~20 px) and a disc moving 31 px across it.
      warped('fast: clip frame 120', clip, 'select=eq(n\\,120),crop=iw:iw:0:200,scale=512:512', (w, h) => withDisc(smoothField(w, h, 3, 4), 300, 220, 110, -25, 18)),
    );
  } else console.log(`(real clip ${clip} absent: only the sample's frames are used)`);
  sources.push(warped('fast: sample frame 20', sample, 'select=eq(n\\,20),crop=ih:ih,scale=512:512', (w, h) => withDisc(smoothField(w, h, 3, 1), 200, 260, 90, 22, -15)));
  // Fast motion with occlusion: part of one real frame approaching the camera in front of another
  // that pans (growing 1.3×, moving 22 px); EPE over the pixels still visible, the hidden ones apart.
  sources.push(['fast: punch over a pan', async (aPng, bPng) => {
    const bg = await grab(fs.existsSync(clip) ? clip : sample, fs.existsSync(clip) ? 'select=eq(n\\,60),crop=iw:iw:0:300,scale=512:512' : 'select=eq(n\\,50),crop=ih:ih:300:0,scale=512:512', aPng);
    const obj = await grab(sample, 'select=eq(n\\,40),crop=ih:ih:100:0,scale=512:512', aPng);
    const scene = punchScene(bg, obj, 250, 270, 110, 80, 1.3, -18, 12, 14, -9);
    await writePng(scene.first, bPng);
    await writePng(scene.second, aPng);
    return { truth: scene.truth, hidden: scene.hidden };
  }]);
  const hasDis = fs.existsSync(PYTHON) && spawnOk(PYTHON, ['-c', 'import cv2']);
  console.log(`\nsame work (read 2 PNGs, one direction, write .flo), real frames moved by known fields; fastest of 5; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores; ${hasDis ? 'DIS medium via ' + PYTHON : 'DIS column skipped: /usr/bin/python3 with cv2 not available (apt-get install python3-opencv)'}`);
  console.log('(CPU ms: the whole job; "flow" columns: CPU of the flow computation alone, without reading and writing)');
  console.log(['frames', 'ours (balanced) EPE', 'wall ms', 'CPU ms', 'flow', 'ours (fast) EPE', 'wall ms', 'CPU ms', ...(hasDis ? ['DIS EPE', 'wall ms', 'CPU ms', 'flow', 'CPU ours/DIS'] : [])].join(' | '));
  const totals = new Map<string, number[][]>([['real-frame pairs', []], ['fast-motion pairs', []]]);
  const hiddenNotes: string[] = [];
  for (const [name, make] of sources) {
    const aPng = path.join(dir, 'a.png'), bPng = path.join(dir, 'b.png'), flo = path.join(dir, 'out.flo');
    const { truth: g, hidden } = await make(aPng, bPng);
    const visible = hidden ? (i: number) => !hidden[i] : undefined;
    const a = { width: g.width, height: g.height };
    const row: string[] = [name];
    let oursCpu = NaN, oursEpe = NaN, oursFlow = NaN;
    let oursFlowField: FlowField | undefined;
    const group = name.startsWith('fast') ? 'fast-motion pairs' : 'real-frame pairs';
    for (const preset of ['balanced', 'fast'] as FlowPreset[]) {
      let wall = Infinity, cpu = Infinity, flowCpu = Infinity, flow: FlowField | undefined;
      for (let r = 0; r < 5; r++) {
        const t = performance.now(), c = process.cpuUsage();
        const [fb, fa] = await Promise.all([readRgb(bPng), readRgb(aPng)]);
        const c1 = process.cpuUsage();
        flow = await computeForwardFlow(fb, fa, { preset });
        const f = process.cpuUsage(c1);
        await writeFlo(flo, flow);
        const u = process.cpuUsage(c);
        wall = Math.min(wall, performance.now() - t);
        cpu = Math.min(cpu, (u.user + u.system) / 1000);
        flowCpu = Math.min(flowCpu, (f.user + f.system) / 1000);
      }
      row.push(interiorEpe(flow!, g, visible).toFixed(3), wall.toFixed(0), cpu.toFixed(0));
      if (preset === 'balanced') { row.push(flowCpu.toFixed(0)); oursCpu = cpu; oursEpe = interiorEpe(flow!, g, visible); oursFlow = flowCpu; oursFlowField = flow!; }
    }
    if (hasDis) {
      const [wall, cpu, calc] = execFileSync(PYTHON, ['-c', DIS_SAME_WORK, aPng, bPng, flo, '5'], { encoding: 'utf8' }).trim().split(' ').map(Number);
      const buf = fs.readFileSync(flo);
      const f = { width: a.width, height: a.height, channels: 2 as const, data: new Float32Array(buf.buffer.slice(buf.byteOffset + 12, buf.byteOffset + buf.length)) };
      row.push(interiorEpe(f, g, visible).toFixed(3), wall.toFixed(0), cpu.toFixed(0), calc.toFixed(0), (oursCpu / cpu).toFixed(2));
      totals.get(group)!.push([oursEpe, interiorEpe(f, g, visible), oursCpu, cpu, oursFlow, calc]);
      if (hidden) hiddenNotes.push(`${name}: EPE over the ${(100 * hidden.reduce((n, v) => n + v, 0) / hidden.length).toFixed(1)} % of pixels hidden in the second frame: ours ${interiorEpe(oursFlowField!, g, (i) => hidden[i] === 1).toFixed(2)}, DIS ${interiorEpe(f, g, (i) => hidden[i] === 1).toFixed(2)} px`);
    }
    console.log(row.join(' | '));
  }
  for (const note of hiddenNotes) console.log(note);
  for (const [group, rows] of totals) {
    if (rows.length === 0) continue;
    const mean = (k: number) => rows.reduce((s, r) => s + r[k], 0) / rows.length;
    console.log(`mean of ${rows.length} ${group}: ours EPE ${mean(0).toFixed(3)}, DIS EPE ${mean(1).toFixed(3)}; CPU ms ours ${mean(2).toFixed(0)}, DIS ${mean(3).toFixed(0)} (${(mean(2) / mean(3)).toFixed(2)}×); flow alone ours ${mean(4).toFixed(0)}, DIS ${mean(5).toFixed(0)} (${(mean(4) / mean(5)).toFixed(2)}×)`);
  }
}

function spawnOk(cmd: string, args: string[]): boolean {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); return true; } catch { return false; }
}

main()
  .then(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flow-bench-real-'));
    try { await sameWork(dir); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  })
  .catch((err) => { console.error(err); process.exit(1); });
