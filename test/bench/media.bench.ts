// Media figures: decode throughput at 512 short side from 1080p, export throughput, and peak memory while
// importing a long 1080p video (must stay flat). BENCH_LONG_SECONDS sets the long video's length (default 300).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createProject } from '../../main/engine/project/create';
import { exportProject } from '../../main/engine/project/export-project';
import { readProjectFile } from '../../main/engine/project/project-file';
import { tempDir } from '../helpers/media';

function makeSource(file: string, seconds: number): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=duration=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '28', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file]);
}

/** Peak resident memory of all ffmpeg processes started by us, sampled while `work` runs (Linux only). */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; ffmpegPeakMb: number; nodePeakMb: number }> {
  let peak = 0;
  const timer = setInterval(() => {
    if (process.platform !== 'linux') return;
    const out = spawnSync('ps', ['--ppid', String(process.pid), '-o', 'rss=,comm='], { encoding: 'utf8' }).stdout ?? '';
    for (const line of out.trim().split('\n')) {
      const [rss, comm] = line.trim().split(/\s+/);
      if (comm === 'ffmpeg') peak = Math.max(peak, Number(rss) / 1024);
    }
  }, 100);
  try {
    const result = await work();
    return { result, ffmpegPeakMb: peak, nodePeakMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const dir = tempDir('rerender-bench-');
  const short = path.join(dir, 'short.mp4');
  makeSource(short, 10);
  let t = performance.now();
  const p = await createProject(path.join(dir, 'short.rerender'), short);
  const decodeS = (performance.now() - t) / 1000;
  console.log(`decode 1080p → ${p.working.width}×${p.working.height}: ${(p.frames.count / decodeS).toFixed(1)} frames/s (${p.frames.count} frames, ${decodeS.toFixed(1)} s, PNG + thumbnails)`);

  for (const format of ['mp4', 'webm'] as const) {
    t = performance.now();
    await exportProject(path.join(dir, 'short.rerender'), await readProjectFile(path.join(dir, 'short.rerender')), { out: path.join(dir, `out.${format}`), allowIncomplete: true });
    const s = (performance.now() - t) / 1000;
    console.log(`export ${format} ${p.working.width}×${p.working.height}: ${(p.frames.count / s).toFixed(1)} frames/s`);
  }

  const seconds = Number(process.env.BENCH_LONG_SECONDS ?? 300);
  const long = path.join(dir, 'long.mp4');
  t = performance.now();
  makeSource(long, seconds);
  console.log(`(made a ${seconds} s 1080p test video in ${((performance.now() - t) / 1000).toFixed(0)} s)`);
  t = performance.now();
  const { result, ffmpegPeakMb, nodePeakMb } = await withPeakRss(() => createProject(path.join(dir, 'long.rerender'), long));
  const s = (performance.now() - t) / 1000;
  console.log(`import ${seconds} s of 1080p (${result.frames.count} frames): ${s.toFixed(0)} s, ${(result.frames.count / s).toFixed(1)} frames/s; peak RSS ffmpeg ${ffmpegPeakMb.toFixed(0)} MB, node ${nodePeakMb.toFixed(0)} MB`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
