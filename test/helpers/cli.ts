// Runs the built `rerender` CLI (the package bin) as a user would.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { makeVideo } from './media';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';

export const binPath = path.join(__dirname, '..', '..', 'main', 'cli', 'rerender-bin.cjs');

export interface CliResult { code: number; stdout: string; stderr: string; json(): any }

export function rerender(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: 300_000 });
  return {
    code: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    json() {
      const line = r.stdout.trim().split('\n').pop() ?? '';
      return JSON.parse(line);
    },
  };
}

/**
 * A project with one long segment between two keyframes with imported styled images, made with the CLI
 * as a user would (192×96 clip at 96 px): its propagation runs a while. Returns the project file.
 */
export async function makeSegmentProject(dir: string, frames: number): Promise<string> {
  const project = path.join(dir, 'clip.rerender');
  const video = makeVideo(dir, 'clip', { width: 192, height: 96, frames, fps: 24 });
  for (const args of [['new', project, '--video', video, '--short-side', '96'], ['keyframes', project, '--set', `0,${frames - 1}`]]) {
    const r = rerender([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const f of [0, frames - 1]) {
    const image = path.join(dir, `style-${f}.png`);
    await sharp(path.join(projectPaths(project).framesDir, frameFileName(f))).modulate({ hue: 120, saturation: 2 }).png().toFile(image);
    const r = rerender(['import-keyframe', project, '--frame', String(f), '--image', image]);
    assert.equal(r.code, 0, r.stderr);
  }
  return project;
}
