// The clips and judges the propagation benches share (propagation.bench.ts, propagation-flicker.bench.ts):
// the sample, the real clip in ../shared/clips/ and a fast-motion clip made from it, each cut to 512×512
// PNGs with keyframes given as a fixed stylisation of their frames (so every frame has a known ideal
// answer), and ../shared/bench/judge.py's measures (Debian's /usr/bin/python3 with python3-opencv).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';

export const root = path.resolve(__dirname, '..', '..');
export const benchDir = path.resolve(root, '..', 'shared', 'bench');
const clipsDir = path.resolve(root, '..', 'shared', 'clips');
export const python = '/usr/bin/python3';
export const size = 512;

export function sh(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Whether Debian's python3 with these modules (e.g. 'cv2' or 'cv2, scipy') is there. */
export function hasPython(modules: string): boolean {
  return fs.existsSync(python) && spawnSync(python, ['-c', `import ${modules}`]).status === 0;
}

export interface Clip { name: string; what: string; video: string; filter: string; start: number }

/** The clips (BENCH_CLIPS=sample,real,fast picks some): each becomes PNGs of 512×512 named %05d.png. */
export function benchClips(): Clip[] {
  const real = fs.existsSync(clipsDir) ? fs.readdirSync(clipsDir).filter((f) => f.endsWith('.mp4')).sort()[0] : undefined;
  const list: Clip[] = [
    { name: 'sample', what: 'bundled sample (parallax pan + kite), centre square', video: path.join(root, 'resources', 'sample', 'sample.mp4'), filter: `crop=ih:ih,scale=${size}:${size}:flags=lanczos`, start: 0 },
  ];
  if (real) {
    const video = path.join(clipsDir, real);
    list.push({ name: 'real', what: `${real}, centre square`, video, filter: `crop=iw:iw,scale=${size}:${size}:flags=lanczos`, start: 40 });
    // Fast motion: the real clip with a fast camera on top (zoom 6 % and a pan of ~15 px per frame at
    // 512², so large displacements, new content at the borders and scale change every frame).
    list.push({ name: 'fast', what: `${real} with a fast zoom + pan`, video, filter: `crop=iw:iw,scale=1536:1536:flags=lanczos,zoompan=z='1.1+0.06*on':x='iw/2-iw/zoom/2-180+45*on':y='ih/2-ih/zoom/2+60-15*on':d=1:s=${size}x${size}`, start: 40 });
  }
  const only = process.env.BENCH_CLIPS?.split(',').map((s) => s.trim()).filter(Boolean);
  return only ? list.filter((c) => only.includes(c.name)) : list;
}

export const pngName = (i: number) => `${String(i).padStart(5, '0')}.png`;

export function makeFrames(clip: Clip, count: number, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  sh('ffmpeg', ['-v', 'error', '-y', '-i', clip.video, '-vf', `select=gte(n\\,${clip.start}),${clip.filter}`, '-vsync', 'passthrough', '-frames:v', String(count), '-pix_fmt', 'rgb24', '-start_number', '0', path.join(dir, '%05d.png')], `decoding ${clip.video}`);
  const n = fs.readdirSync(dir).filter((f) => f.endsWith('.png')).length;
  if (n !== count) throw new Error(`${clip.video}: ${n} frames decoded, ${count} wanted`);
}

/** The fixed keyframe style: ../shared/bench/stylize.py with OpenCV, else a sharp filter (then no judge runs anyway). */
export async function stylise(src: string, out: string, withPython: boolean): Promise<void> {
  if (withPython) sh(python, [path.join(benchDir, 'stylize.py'), src, out], 'stylize.py');
  else await sharp(src).modulate({ saturation: 1.6, hue: 100 }).median(5).toFile(out);
}

export interface JudgeScores { dis?: number; deep?: number; sharp?: number; psnr?: number }

/** judge.py's measures of the output frames in `outDir` against the source frames (`which` picks some; all by default). */
export function judge(outDir: string, srcDir: string, keys: number[], which: (keyof JudgeScores)[] = ['dis', 'deep', 'sharp', 'psnr']): JudgeScores {
  const j = path.join(benchDir, 'judge.py');
  const num = (args: string[]) => Number(sh(python, [j, ...args], `judge.py ${args[0]}`).trim());
  const s: JudgeScores = {};
  if (which.includes('dis')) s.dis = num(['warperr', outDir, srcDir, 'dis']);
  if (which.includes('deep')) s.deep = num(['warperr', outDir, srcDir, 'deep']);
  if (which.includes('sharp')) s.sharp = num(['sharpness', outDir]);
  if (which.includes('psnr')) s.psnr = num(['fidelity', outDir, srcDir, keys.join(',')]);
  return s;
}
