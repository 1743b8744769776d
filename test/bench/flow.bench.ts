// Flow benchmark: end-point error and ms per frame pair at 512×512 for the native estimator and,
// when Debian's python3-opencv is installed, OpenCV's DIS "medium" preset on the same pairs; then 4K timing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeFlow, computeForwardFlow, type FlowPreset } from '../../native-models/src/flow';
import type { FlowField } from '../../native-models/src/image';
import { endPointError, makeTexture, renderScene, standardScenes, translation } from '../helpers/flow-scenes';

const SIZE = 512;
const REPEATS = 5;
const PYTHON = '/usr/bin/python3';

// Reads raw RGB pairs, runs DIS medium (grey input, as OpenCV expects), writes raw flow + median ms.
const DIS_SCRIPT = `
import sys, json, time, numpy as np, cv2
w, h, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = []
for stem in sys.argv[4:]:
    a = np.fromfile(stem + '.a', np.uint8).reshape(h, w, 3)
    b = np.fromfile(stem + '.b', np.uint8).reshape(h, w, 3)
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(ga, gb, None)
    times = []
    for _ in range(reps):
        t = time.perf_counter(); flow = dis.calc(ga, gb, None); times.append((time.perf_counter() - t) * 1000)
    flow.astype(np.float32).tofile(stem + '.dis')
    out.append(sorted(times)[len(times) // 2])
print(json.dumps({'ms': out, 'threads': cv2.getNumThreads(), 'version': cv2.__version__}))
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn: () => Promise<unknown>, repeats: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

function runDis(stems: string[], width: number, height: number): { ms: number[]; flows: FlowField[]; note: string } | undefined {
  if (!fs.existsSync(PYTHON)) return undefined;
  const r = spawnSync(PYTHON, ['-c', DIS_SCRIPT, String(width), String(height), String(REPEATS), ...stems], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number[]; threads: number; version: string };
  const flows = stems.map((s) => {
    const buf = fs.readFileSync(s + '.dis');
    return { width, height, channels: 2 as const, data: new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4) };
  });
  return { ms: res.ms, flows, note: `OpenCV ${res.version}, ${res.threads} threads` };
}

async function main(): Promise<void> {
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
  const dis = runDis(stems, SIZE, SIZE);
  if (!dis) console.log('OpenCV DIS column skipped: /usr/bin/python3 with cv2 not available (apt-get install python3-opencv)');
  else console.log(`DIS medium: ${dis.note}`);

  const header = ['scene', ...presets.flatMap((p) => [`${p} EPE`, `${p} ms/fwd`, `${p} ms/fwd+bwd`]), ...(dis ? ['DIS EPE', 'DIS ms/fwd'] : [])];
  console.log(header.join(' | '));
  const sums = new Map<string, number>();
  const add = (k: string, v: number) => sums.set(k, (sums.get(k) ?? 0) + v);
  for (const [i, s] of scenes.entries()) {
    const row: string[] = [s.name];
    for (const preset of presets) {
      const flow = await computeForwardFlow(s.a, s.b, { preset });
      const epe = endPointError(flow, s.forward);
      const msFwd = await timeIt(() => computeForwardFlow(s.a, s.b, { preset }), REPEATS);
      const msBoth = await timeIt(() => computeFlow(s.a, s.b, { preset }), REPEATS);
      row.push(epe.toFixed(3), msFwd.toFixed(1), msBoth.toFixed(1));
      add(`${preset} EPE`, epe); add(`${preset} fwd`, msFwd); add(`${preset} both`, msBoth);
    }
    if (dis) {
      const epe = endPointError(dis.flows[i], s.forward);
      row.push(epe.toFixed(3), dis.ms[i].toFixed(1));
      add('DIS EPE', epe); add('DIS fwd', dis.ms[i]);
    }
    console.log(row.join(' | '));
  }
  const n = scenes.length;
  const mean = ['mean', ...presets.flatMap((p) => [(sums.get(`${p} EPE`)! / n).toFixed(3), (sums.get(`${p} fwd`)! / n).toFixed(1), (sums.get(`${p} both`)! / n).toFixed(1)])];
  if (dis) mean.push((sums.get('DIS EPE')! / n).toFixed(3), (sums.get('DIS fwd')! / n).toFixed(1));
  console.log(mean.join(' | '));
  console.log('(ms/fwd: one direction with every core; ms/fwd+bwd: both directions in one call, as the editor uses it)');

  if (!process.argv.includes('--no-4k')) {
    const big = renderScene(3840, 2160, [{ texture: makeTexture(3), motion: translation(12, -7) }]);
    const t = performance.now();
    await computeFlow(big.a, big.b);
    console.log(`4K (3840×2160) forward+backward, balanced: ${(performance.now() - t).toFixed(0)} ms`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => { console.error(err); process.exit(1); });
