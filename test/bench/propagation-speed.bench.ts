// Propagation speed per content at 512×512, end to end as `rerender propagate` runs it (flows computed
// by the run, both directions, blend, frames written), with the project's default settings: wall and
// CPU seconds per propagated output frame, the cache left per minute of video, and PSNR to the known
// answer (keyframes are a fixed filter of their frames, so every frame has an ideal answer).
// Contents: the bundled sample, the real clip in ../shared/clips (skipped with a note when absent),
// a fast pan made from a frame of that clip (22 px and 9 px per frame), and flat low-texture content.
// Set SPEED_CONTENT=sample,flat to run some of them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createProject } from '../../main/engine/project/create';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { importKeyframeImage } from '../../main/engine/project/keyframe-images';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { resultFrameFile } from '../../main/engine/project/output-keys';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { tempDir } from '../helpers/media';

const root = path.resolve(__dirname, '..', '..');
const realClip = path.resolve(root, '..', 'shared', 'clips', 'portrait-talk-540x960-25fps.mp4');
const KEYS = [0, 8, 16];

interface Content { name: string; video: string; crop: { left: number; right: number; top: number; bottom: number } }

function folderBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  return total;
}

function contents(dir: string): Content[] {
  const none = { left: 0, right: 0, top: 0, bottom: 0 };
  const ff = (args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
  // Every video holds just the frames the keys span, so each row times the same work (two segments, both
  // directions, no tail): the whole sample (72 frames) would add a one-direction tail of 55 frames, and
  // the whole real clip a 336-frame one.
  const frames = String(KEYS[KEYS.length - 1] + 1);
  const cut = (video: string, name: string, from: string) => {
    const out = path.join(dir, name);
    ff(['-ss', from, '-i', video, '-frames:v', frames, '-an', '-c:v', 'libx264', '-crf', '12', '-pix_fmt', 'yuv420p', out]);
    return out;
  };
  const sample = path.join(root, 'resources', 'sample', 'sample.mp4');
  const list: Content[] = [{ name: 'sample', video: cut(sample, 'sample.mp4', '0'), crop: { left: 168, right: 168, top: 0, bottom: 0 } }];
  const still = path.join(dir, 'still.png');
  if (fs.existsSync(realClip)) {
    const real = cut(realClip, 'real.mp4', '2');
    list.push({ name: 'real clip', video: real, crop: { left: 0, right: 0, top: 210, bottom: 210 } });
    ff(['-ss', '2', '-i', realClip, '-frames:v', '1', '-vf', 'scale=1080:1920', still]);
  } else {
    console.log(`(real clip ${realClip} absent: its row is skipped, and the fast pan is made from the sample)`);
    ff(['-i', sample, '-frames:v', '1', '-vf', 'scale=-2:1200', still]);
  }
  const fast = path.join(dir, 'fast.mp4');
  ff(['-loop', '1', '-framerate', '24', '-i', still, '-vf', "crop=512:512:x='100+n*22':y='300+n*9',format=yuv420p", '-frames:v', frames, '-c:v', 'libx264', '-crf', '12', fast]);
  list.push({ name: 'fast motion', video: fast, crop: none });
  const flat = path.join(dir, 'flat.mp4');
  ff(['-f', 'lavfi', '-i', 'gradients=s=512x512:rate=24:speed=0.02:c0=0x6080a0:c1=0xa09070:n=2:seed=1', '-vf', 'format=yuv420p', '-frames:v', frames, '-c:v', 'libx264', '-crf', '12', flat]);
  list.push({ name: 'flat', video: flat, crop: none });
  const only = process.env.SPEED_CONTENT?.split(',');
  return only ? list.filter((c) => only.some((o) => c.name.startsWith(o))) : list;
}

async function main(): Promise<void> {
  const dir = tempDir('rerender-bench-speed-');
  console.log(`keys ${KEYS.join(', ')} (two segments), default settings, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
  console.log('content | wall s/frame | CPU s/frame | cache GB/min (flows + scratch left) | PSNR to the ideal');
  try {
    for (const c of contents(dir)) {
      const file = path.join(dir, c.name.replace(/\W/g, '-'), 'p.rerender');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      let p = await createProject(file, c.video, { size: 512, crop: c.crop });
      p = setKeyframeFrames(p, KEYS);
      const stylise = (frame: number) => sharp(path.join(projectPaths(file).framesDir, frameFileName(frame))).modulate({ saturation: 1.6, hue: 100 }).median(5);
      for (const k of KEYS) {
        const styled = path.join(path.dirname(file), `key-${k}.png`);
        await stylise(k).toFile(styled);
        p = await importKeyframeImage(file, p, k, styled);
      }
      await writeProjectFile(file, p);
      const t = performance.now(), cpu0 = process.cpuUsage();
      const r = await propagateProject(file, p);
      const wall = (performance.now() - t) / 1000, used = process.cpuUsage(cpu0);
      // Propagated frames only: framesWritten never counts the keyframes (subtracting them again, as this
      // did before, divided by 11 in place of 14 and overstated every figure by 27 %).
      const frames = r.framesWritten;
      let sq = 0, count = 0;
      for (let i = 0; i <= KEYS[KEYS.length - 1]; i++) {
        if (KEYS.includes(i)) continue;
        const [out, truth] = await Promise.all([sharp(resultFrameFile(file, p, i)!).removeAlpha().raw().toBuffer(), stylise(i).removeAlpha().raw().toBuffer()]);
        for (let k = 0; k < out.length; k++) { const d = out[k] - truth[k]; sq += d * d; }
        count += out.length;
      }
      const paths = projectPaths(file);
      const fps = p.source.fps.num / p.source.fps.den;
      const cacheBytes = folderBytes(paths.flowDir) + folderBytes(paths.segmentsDir);
      const perMin = (cacheBytes / (KEYS[KEYS.length - 1] + 1)) * fps * 60 / 1e9;
      console.log(`${c.name} | ${(wall / frames).toFixed(2)} | ${((used.user + used.system) / 1e6 / frames).toFixed(2)} | ${perMin.toFixed(2)} | ${(10 * Math.log10((255 * 255) / (sq / count))).toFixed(2)} dB`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('(per propagated output frame, flows included; wall time on a shared machine is noisy: compare CPU seconds)');
}

main().catch((e) => { console.error(e); process.exit(1); });
