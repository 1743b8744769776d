// Where propagation's flicker comes from (issue 14, item 1): one segment per clip (keys 0 and BENCH_KEY_GAP),
// both chains run once, then every stage of the blend judged on its own — each direction alone, the
// hard-mask composite, the histogram blend, the gradient fusion, with the hard mask (docs/METHOD.md §4.2)
// and with our soft weights — by ../shared/bench/judge.py (DIS judge; BENCH_DEEP=1 adds DeepFlow), plus
// per-pixel maps of where consecutive outputs disagree along the source's motion (DIS flow), split into
// regions: near motion boundaries, where the blend hands a pixel from A to B, what the keyframes do not
// show, the rest. It also compares our flow with DIS at and away from occlusions.
// Chain settings can be changed for an experiment: BENCH_SETTINGS='{"guideWeights":{"temporal":1}}' (merged
// over the project defaults). BENCH_KEEP=DIR keeps the frames and writes the heat maps there.
// Run as `npm run bench -- propagation-flicker` (needs /usr/bin/python3 with python3-opencv).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { benchClips, hasPython, judge, makeFrames, pngName, python, sh, stylise, type JudgeScores } from './bench-clips';
import { tempDir } from '../helpers/media';
import { defaultPropagationSettings } from '../../main/engine/project/defaults';
import { FlowCache } from '../../main/engine/flow/flow-cache';
import { runChain } from '../../main/engine/propagation/chain';
import { ChainStore, type ChainStep } from '../../main/engine/propagation/frame-store';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import { blendDirections, blendMask, blendWeights } from '../../native-models/src/blend';
import { occlusionMask, warpImage, type FlowPair } from '../../native-models/src/flow';
import { readFlo } from '../../native-models/src/flo';
import type { FlowField, Image } from '../../native-models/src/image';
import type { PropagationSettings } from '../../preload/project-schema';

type Stage = { name: string; frames: (c: number) => Promise<Image> };

function mergeSettings(base: PropagationSettings, over: Record<string, unknown>): PropagationSettings {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = v && typeof v === 'object' && !Array.isArray(v) ? { ...(base as unknown as Record<string, object>)[k], ...v } : v;
  return out as PropagationSettings;
}

/** DIS (medium) flows c+1→c and c→c+1 of the source frames, as the judge computes them, written as .flo by OpenCV. */
function disFlows(srcDir: string, count: number, outDir: string): void {
  fs.mkdirSync(outDir, { recursive: true });
  const code = [
    'import sys, cv2', 'src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])',
    'est = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)',
    'g = lambda i: cv2.cvtColor(cv2.imread(f"{src}/{i:05d}.png"), cv2.COLOR_BGR2GRAY)',
    'for i in range(n - 1):',
    '    a, b = g(i + 1), g(i)',
    '    cv2.writeOpticalFlow(f"{out}/{i:05d}.bwd.flo", est.calc(a, b, None))',
    '    cv2.writeOpticalFlow(f"{out}/{i:05d}.fwd.flo", est.calc(b, a, None))',
  ].join('\n');
  sh(python, ['-c', code, srcDir, outDir, String(count)], 'DIS flows');
}

/** Dilation of a 0/255 mask by a square of radius r (separable max). */
function dilate(mask: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const tmp = new Uint8Array(mask.length), out = new Uint8Array(mask.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = 0;
    for (let d = -r; d <= r && !m; d++) { const xx = x + d; if (xx >= 0 && xx < w && mask[y * w + xx]) m = 255; }
    tmp[y * w + x] = m;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = 0;
    for (let d = -r; d <= r && !m; d++) { const yy = y + d; if (yy >= 0 && yy < h && tmp[yy * w + x]) m = 255; }
    out[y * w + x] = m;
  }
  return out;
}

/** Pixels where the flow changes fast (a motion boundary): |∇flow| over one pixel above `t` px. */
function motionEdges(flow: FlowField, t: number): Uint8Array {
  const { width: w, height: h, data } = flow;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    const r = x + 1 < w ? i + 1 : i, d = y + 1 < h ? i + w : i;
    const g = Math.hypot(data[r * 2] - data[i * 2], data[r * 2 + 1] - data[i * 2 + 1]) + Math.hypot(data[d * 2] - data[i * 2], data[d * 2 + 1] - data[i * 2 + 1]);
    if (g > t) out[i] = 255;
  }
  return out;
}

const REGIONS = ['motion boundary', 'A→B hand-over', 'unseen by a key', 'rest'] as const;

interface PixelFlicker { mean: number; byRegion: number[]; map: Float32Array; pairs: number[] }

async function main(): Promise<void> {
  if (!hasPython('cv2')) { console.log(`${python} with python3-opencv is absent (apt-get install python3-opencv): the judges cannot run, nothing measured`); return; }
  const started = performance.now();
  const gap = Number(process.env.BENCH_KEY_GAP ?? 8);
  const count = gap + 1, keys = [0, gap];
  const over = process.env.BENCH_SETTINGS ? JSON.parse(process.env.BENCH_SETTINGS) as Record<string, unknown> : {};
  const settings = mergeSettings(defaultPropagationSettings(), over);
  const deep = process.env.BENCH_DEEP === '1';
  const threads = os.availableParallelism();
  // BENCH_STAGES=0,1,8 judges only those rows (numbered from 0 in the order printed), for quicker experiments.
  const only = process.env.BENCH_STAGES?.split(',').map(Number);
  console.log(`one segment per clip, ${count} frames at 512², keys ${keys.join(', ')}; chain settings ${JSON.stringify(over)} over the defaults; ${threads} threads; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const clip of benchClips()) {
    const keep = process.env.BENCH_KEEP;
    // A kept folder is named by the chain settings, and its chains are resumed (same inputs, same bytes).
    const tag = Buffer.from(JSON.stringify(over)).toString('hex').slice(0, 40);
    const dir = keep ? path.join(keep, `flicker-${clip.name}-${gap}-${tag}`) : tempDir(`rerender-bench-flicker-${clip.name}-`);
    try {
      for (const d of ['src', 'keys', 'stages', 'dis', 'ideal']) fs.rmSync(path.join(dir, d), { recursive: true, force: true });
      const srcDir = path.join(dir, 'src'), keyDir = path.join(dir, 'keys');
      makeFrames(clip, count, srcDir);
      fs.mkdirSync(keyDir, { recursive: true });
      for (const k of keys) await stylise(path.join(srcDir, pngName(k)), path.join(keyDir, pngName(k)), true);
      const flows = await FlowCache.open({ dir: path.join(dir, 'flow'), framesDir: srcDir, sourceKey: `bench-${clip.name}` });
      const sourceFrame = (i: number) => readRgb(path.join(srcDir, pngName(i)));
      const style = [await readRgb(path.join(keyDir, pngName(0))), await readRgb(path.join(keyDir, pngName(gap)))];
      const fwd = new ChainStore(path.join(dir, 'forward')), bwd = new ChainStore(path.join(dir, 'backward'));
      const inner = Array.from({ length: gap - 1 }, (_, i) => i + 1);
      const t0 = performance.now(), cpu0 = process.cpuUsage();
      const common = { sourceFrame, flows, settings, seed: 0, threads };
      await runChain({ ...common, keyFrame: 0, style: style[0], frames: inner, direction: 'forward', store: fwd });
      await runChain({ ...common, keyFrame: gap, style: style[1], frames: [...inner].reverse(), direction: 'backward', store: bwd });
      const cpu = process.cpuUsage(cpu0);
      console.log(`\n${clip.name}: ${clip.what}; chains ${((performance.now() - t0) / 1000 / inner.length).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6 / inner.length).toFixed(1)} s CPU per blended frame`);
      const A: ChainStep[] = [], B: ChainStep[] = [];
      for (const c of inner) { A[c] = (await fwd.load(c))!; B[c] = (await bwd.load(c))!; }
      // Masks: hard (§4.2) and soft (ours), each carried along the motion.
      const hard: Image[] = [], soft: Image[] = [];
      for (const c of inner) {
        const w = c / gap;
        const back = c > 1 ? (await flows.pair(c - 1)).backward : undefined;
        hard[c] = await blendMask(A[c].error, B[c].error, w, back ? await warpImage(hard[c - 1], back, 'nearest') : undefined);
        soft[c] = blendWeights(A[c].error, B[c].error, w, back ? await warpImage(soft[c - 1], back, 'nearest') : undefined);
      }
      const key = (c: number) => (c === 0 ? style[0] : c === gap ? style[1] : undefined);
      const select = (c: number, m: Image[]): Image => {
        const out = Buffer.alloc(A[c].image.data.length);
        for (let p = 0; p < m[c].data.length; p++) for (let k = 0; k < 3; k++) out[p * 3 + k] = (m[c].data[p] >= 128 ? B[c] : A[c]).image.data[p * 3 + k];
        return { ...A[c].image, data: new Uint8Array(out) };
      };
      const stage = (name: string, f: (c: number) => Promise<Image> | Image): Stage => ({ name, frames: async (c) => key(c) ?? await f(c) });
      const stages: Stage[] = [
        stage('A alone (forward; B at the last)', (c) => A[c].image),
        stage('B alone (backward; A at the first)', (c) => B[c].image),
        stage('linear mix (1−w)·A + w·B', (c) => { const w = c / gap; return { ...A[c].image, data: A[c].image.data.map((v, i) => Math.round((1 - w) * v + w * B[c].image.data[i])) }; }),
        stage('hard mask: composite only', (c) => select(c, hard)),
        stage('hard mask: + histogram blend', (c) => blendDirections({ a: A[c].image, b: B[c].image, mask: hard[c], weightB: c / gap, fusion: false })),
        stage('hard mask: + fusion (METHOD §4.2)', (c) => blendDirections({ a: A[c].image, b: B[c].image, mask: hard[c], weightB: c / gap })),
        stage('soft weights: composite only', (c) => select(c, soft)),
        stage('soft weights: + histogram blend', (c) => blendDirections({ a: A[c].image, b: B[c].image, mask: soft[c], weightB: c / gap, fusion: false })),
        stage('soft weights: + fusion (ours)', (c) => blendDirections({ a: A[c].image, b: B[c].image, mask: soft[c], weightB: c / gap })),
        stage('ideal: stylize.py of every frame', async (c) => { const f = path.join(dir, 'ideal', pngName(c)); fs.mkdirSync(path.dirname(f), { recursive: true }); await stylise(path.join(srcDir, pngName(c)), f, true); return readRgb(f); }),
      ].filter((s, k) => !only || only.includes(k));
      // "A alone" runs to frame gap−1 and then the key b; the jump there is the point of the row.
      // DIS flows and regions for the per-pixel maps.
      const disDir = path.join(dir, 'dis');
      disFlows(srcDir, count, disDir);
      const dis: FlowPair[] = [];
      for (let i = 0; i < gap; i++) dis[i] = { forward: await readFlo(path.join(disDir, `${String(i).padStart(5, '0')}.fwd.flo`)), backward: await readFlo(path.join(disDir, `${String(i).padStart(5, '0')}.bwd.flo`)) };
      const W = style[0].width, H = style[0].height, N = W * H;
      const regionOf: Uint8Array[] = []; // per pair i (frames i, i+1): region index per pixel of frame i+1
      const visible: Uint8Array[] = [];
      for (let i = 0; i < gap; i++) {
        const occ = await occlusionMask(dis[i]);
        const edges = motionEdges(dis[i].backward, 1.0);
        const boundary = dilate(new Uint8Array(occ.data.map((v, p) => v || edges[p])), W, H, 3);
        const r = new Uint8Array(N).fill(3);
        const c = i + 1;
        // Where the hard mask flips from A to B along the motion (the key b counts as all B).
        const before = i >= 1 ? await warpImage(hard[i], dis[i].backward, 'nearest') : undefined;
        for (let p = 0; p < N; p++) {
          if (boundary[p]) r[p] = 0;
          else if (before && (c === gap ? 255 : hard[c].data[p]) >= 128 && before.data[p] < 128) r[p] = 1;
          else if (c < gap && (A[c].uncovered.data[p] || B[c].uncovered.data[p])) r[p] = 2;
        }
        regionOf[i] = r;
        visible[i] = new Uint8Array(occ.data.map((v) => (v ? 0 : 1)));
      }
      const pixelFlicker = async (s: Stage): Promise<PixelFlicker> => {
        const map = new Float32Array(N);
        const sums = [0, 0, 0, 0], counts = [0, 0, 0, 0], pairs: number[] = [];
        let prev = await s.frames(0);
        for (let i = 0; i < gap; i++) {
          let pairSum = 0, pairN = 0;
          const next = await s.frames(i + 1);
          const warped = await warpImage(prev, dis[i].backward, 'bilinear');
          for (let p = 0; p < N; p++) {
            if (!visible[i][p]) continue;
            let e = 0;
            for (let k = 0; k < 3; k++) { const d = (next.data[p * 3 + k] - warped.data[p * 3 + k]) / 255; e += d * d; }
            e /= 3;
            map[p] += e / gap;
            pairSum += e; pairN++;
            sums[regionOf[i][p]] += e; counts[regionOf[i][p]]++;
          }
          prev = next;
          pairs.push(pairSum / Math.max(1, pairN));
        }
        const total = sums.reduce((a, b) => a + b, 0), n = counts.reduce((a, b) => a + b, 0);
        return { mean: total / n, byRegion: sums.map((x) => x / n), map, pairs };
      };
      const areas = [0, 0, 0, 0];
      for (let i = 0; i < gap; i++) for (let p = 0; p < N; p++) if (visible[i][p]) areas[regionOf[i][p]]++;
      const areaTotal = areas.reduce((a, b) => a + b, 0);
      console.log(`  regions (share of the measured pixels): ${REGIONS.map((r, k) => `${r} ${(100 * areas[k] / areaTotal).toFixed(1)} %`).join(', ')}`);
      console.log(`  ${'stage'.padEnd(38)} ${'DIS judge'.padEnd(10)} ${deep ? 'DeepFlow  ' : ''}${'sharp'.padEnd(6)} ${'PSNR'.padEnd(6)} per-pixel mean · its part in: ${REGIONS.join(' / ')}`);
      for (const s of stages) {
        const out = path.join(dir, 'stages', s.name.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, ''));
        fs.mkdirSync(out, { recursive: true });
        for (let c = 0; c <= gap; c++) await writePng(path.join(out, pngName(c)), await s.frames(c));
        const j: JudgeScores = judge(out, srcDir, keys, deep ? ['dis', 'deep', 'sharp', 'psnr'] : ['dis', 'sharp', 'psnr']);
        const px = await pixelFlicker(s);
        const part = px.byRegion.map((x) => `${(100 * x / px.mean).toFixed(0)} %`).join(' / ');
        console.log(`  ${s.name.padEnd(38)} ${j.dis!.toFixed(7).padEnd(10)} ${deep ? j.deep!.toFixed(7).padEnd(10) : ''}${j.sharp!.toFixed(2).padEnd(6)} ${j.psnr!.toFixed(2).padEnd(6)} ${px.mean.toFixed(7)} · ${part}`);
        console.log(`  ${''.padEnd(38)} per pair (×1e-4): ${px.pairs.map((x) => (x * 1e4).toFixed(1)).join(' ')}`);
        if (keep) {
          let peak = 1e-9;
          for (const v of px.map) peak = Math.max(peak, v / 4);
          await sharp(Buffer.from(px.map.map((v) => Math.min(255, Math.round(255 * Math.sqrt(Math.min(1, v / peak)))))), { raw: { width: W, height: H, channels: 1 } }).png().toFile(`${out}.heat.png`);
        }
      }
      // Our flow against DIS: end-point difference and each flow's own warp error of the source frames.
      const src: Image[] = [];
      for (let c = 0; c <= gap; c++) src[c] = await sourceFrame(c);
      let epeOcc = 0, nOcc = 0, epeVis = 0, nVis = 0, photoOurs = 0, photoDis = 0, nPhoto = 0;
      for (let i = 0; i < gap; i++) {
        const ours = await flows.pair(i);
        const [wo, wd] = [await warpImage(src[i], ours.backward, 'bilinear'), await warpImage(src[i], dis[i].backward, 'bilinear')];
        const occ = (await occlusionMask(dis[i])).data;
        const near = dilate(occ, W, H, 3);
        for (let p = 0; p < N; p++) {
          const d = Math.hypot(ours.backward.data[p * 2] - dis[i].backward.data[p * 2], ours.backward.data[p * 2 + 1] - dis[i].backward.data[p * 2 + 1]);
          if (near[p]) { epeOcc += d; nOcc++; } else {
            epeVis += d; nVis++;
            for (let k = 0; k < 3; k++) { const a = (src[i + 1].data[p * 3 + k] - wo.data[p * 3 + k]) / 255, b = (src[i + 1].data[p * 3 + k] - wd.data[p * 3 + k]) / 255; photoOurs += a * a; photoDis += b * b; }
            nPhoto += 3;
          }
        }
      }
      console.log(`  our flow vs DIS (backward flows): mean difference ${(epeVis / nVis).toFixed(3)} px where both see the pixel, ${(epeOcc / Math.max(1, nOcc)).toFixed(3)} px within 3 px of DIS's occlusions (${(100 * nOcc / (nOcc + nVis)).toFixed(1)} % of pixels); source frames warped by each, MSE: ours ${(photoOurs / nPhoto).toFixed(7)}, DIS ${(photoDis / nPhoto).toFixed(7)}`);
    } finally {
      if (!keep) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const used = process.cpuUsage();
  console.log(`\nbench: ${((performance.now() - started) / 1000).toFixed(0)} s wall, ${((used.user + used.system) / 1e6).toFixed(0)} s CPU in this process; load at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
