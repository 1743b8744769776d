// Which process is rendering a keyframe: a render claims its keyframe (status "rendering" in the project,
// plus a claim file naming the process), so that after a crash or a killed worker the next render or open
// can tell a live render from an interrupted one and give the keyframe a truthful status again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { updateKeyframe } from '../project/keyframes';
import { projectPaths } from '../project/paths';
import { readProjectFile, writeProjectFile } from '../project/project-file';
import type { Keyframe } from '../../../preload/project-schema';

interface Claim {
  pid: number;
  host: string;
  startedAt: string;
  /** The keyframe's status and note before the render, given back when it is interrupted. */
  status: Keyframe['status'];
  note?: string;
}

function claimFile(projectFile: string, id: string): string {
  return path.join(projectPaths(projectFile).keyframesDir, `${id}.rendering.json`);
}

function readClaim(projectFile: string, id: string): Claim | undefined {
  try { return JSON.parse(fs.readFileSync(claimFile(projectFile, id), 'utf8')) as Claim; } catch { return undefined; }
}

/** Whether the claiming process may still be running: signal 0 only checks (Windows too); another machine's (a shared folder) cannot be checked. */
function alive(claim: Claim): boolean {
  if (claim.host !== os.hostname()) return true;
  try { process.kill(claim.pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Marks the keyframe "rendering" by this process. */
export async function claimKeyframe(projectFile: string, k: Keyframe): Promise<void> {
  const file = claimFile(projectFile, k.id);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const claim: Claim = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), status: k.status === 'rendering' ? 'stale' : k.status, note: k.note };
  fs.writeFileSync(file, JSON.stringify(claim));
  const p = await readProjectFile(projectFile);
  if (p.keyframes.some((x) => x.id === k.id)) await writeProjectFile(projectFile, updateKeyframe(p, k.id, (old) => ({ ...old, status: 'rendering' })));
}

/** Ends this process's claim (the caller has written the keyframe's new status). */
export function releaseKeyframe(projectFile: string, id: string): void {
  fs.rmSync(claimFile(projectFile, id), { force: true });
}

/**
 * Keyframes left "rendering" by a process that is gone (killed, crashed) get their earlier status back
 * when they still have an image, or "failed" when they have none, with a note saying the render was
 * interrupted. Returns the frames changed. Renders of live processes are left alone.
 */
export async function recoverInterruptedRenders(projectFile: string): Promise<number[]> {
  let p = await readProjectFile(projectFile);
  const changed: number[] = [];
  for (const k of p.keyframes) {
    if (k.status !== 'rendering') continue;
    const claim = readClaim(projectFile, k.id);
    if (claim && alive(claim)) continue;
    const when = claim ? ` (started ${claim.startedAt})` : '';
    p = updateKeyframe(p, k.id, (old) => (old.image
      ? { ...old, status: claim?.status ?? 'stale', note: `the last render${when} was interrupted before it finished; the earlier image is kept` }
      : { ...old, status: 'failed', note: `the render${when} was interrupted before it finished (its process stopped); render it again` }));
    releaseKeyframe(projectFile, k.id);
    changed.push(k.frame);
  }
  if (changed.length) await writeProjectFile(projectFile, p);
  return changed;
}
