// Progress and ETAs of the editor's jobs as the jobs panel receives them, for the work that reports
// no ETA of its own (decoding a new project's frames, decoding a missing frame cache again, importing a
// model): each event says how much of how much is done, progress only goes forward, there is no ETA
// ("estimating…") until a rate is measured and one from then on, and Cancel stops the job and leaves
// nothing behind. The editor's clock steps a quarter second per reading, so the ETA's 2 s of
// measuring pass after a few events however fast or loaded the machine is: nothing here is timed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { projectPaths } from '../../main/engine/project/paths';
import { formatEta } from '../../renderer/JobsPanel';
import type { JobState } from '../../preload/api';
import { finished } from '../helpers/editor-jobs';
import { makeVideo, tempDir } from '../helpers/media';
import { SD_TINY } from '../helpers/fixtures';

/** How long the ETA measures a rate before it says anything (jobs/eta.ts). */
const MEASURED_MS = 2_000;

interface Seen { job: JobState; at: number }

/** Records one job kind's events with the editor's clock at each. */
function record(editor: Editor, kind: JobState['kind'], clock: () => number): Seen[] {
  const seen: Seen[] = [];
  editor.on('job.updated', (job) => { if (job.kind === kind) seen.push({ job, at: clock() }); });
  return seen;
}

/**
 * The checks every job's events must pass: `counts` reads "n of total" from a message. Returns the
 * running events that carried an ETA.
 */
function checkEvents(seen: Seen[], counts: RegExp): Seen[] {
  const running = seen.filter((s) => s.job.status === 'running');
  assert.ok(running.length >= 2, `a start and some progress: ${running.length} running events`);
  let fraction = 0, done = 0, firstProgress: Seen | undefined;
  const withEta: Seen[] = [];
  for (const s of running) {
    const j = s.job;
    assert.ok(j.fraction >= fraction && j.fraction <= 1, `progress only goes forward: ${fraction} then ${j.fraction}`);
    fraction = j.fraction;
    if (j.fraction > 0 && j.fraction < 1) { // the last one says what was done ("decoded 240 frames")
      const m = counts.exec(j.message ?? '');
      assert.ok(m, `"${j.message}" says how much of how much is done`);
      const [n, total] = [Number(m[1]), Number(m[2])];
      assert.ok(n >= done && n <= total * 1.05, `${n} of ${total} after ${done}`);
      done = n;
    }
    if (j.etaSeconds !== undefined) {
      assert.ok(Number.isFinite(j.etaSeconds) && j.etaSeconds >= 0, `an ETA is a number of seconds: ${j.etaSeconds}`);
      withEta.push(s);
    }
    if (j.fraction > 0 && j.fraction < 1 && !firstProgress) {
      firstProgress = s;
      assert.equal(j.etaSeconds, undefined, 'no ETA from the first progress ("estimating…")');
      assert.equal(formatEta(j.etaSeconds, j.fraction), 'estimating…');
    }
    // Once a rate is measured (2 s since the first progress, and further along), every event has an ETA.
    if (firstProgress && s.at - firstProgress.at > MEASURED_MS + 500 && j.fraction > firstProgress.job.fraction && j.fraction < 1) {
      assert.notEqual(j.etaSeconds, undefined, `an ETA once there is a rate (at ${Math.round(j.fraction * 100)}%)`);
      assert.match(formatEta(j.etaSeconds, j.fraction), /^\d+ s left$|min left$/);
    }
  }
  const last = seen[seen.length - 1].job;
  assert.equal(last.status, 'done', JSON.stringify(last.error));
  assert.deepEqual([last.fraction, last.etaSeconds], [1, undefined], 'a finished job is at 100% with no ETA');
  return withEta;
}

/** Cancels the job of `kind` at its first progress that is not the end. */
function cancelAtFirstProgress(editor: Editor, kind: JobState['kind']): Promise<JobState> {
  return new Promise((resolve) => {
    const off = editor.on('job.updated', (job) => {
      if (job.kind !== kind || job.status !== 'running' || job.fraction <= 0 || job.fraction >= 1) return;
      off();
      void editor.handlers['jobs.cancel']({ id: job.id });
      resolve(job);
    });
  });
}

describe('progress and ETA of in-process jobs', () => {
  let dir: string;
  let editor: Editor;
  let t = 0;
  const clock = () => (t += 250);
  before(() => {
    dir = tempDir('rerender-job-progress-');
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ modelsFolder: path.join(dir, 'models') }));
    editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules(), clock });
  });
  after(() => editor.dispose());

  test('given a new project, when its frames are decoded, then each event says frame n of ~total, only goes forward, and has an ETA once a rate is measured', async () => {
    const video = makeVideo(dir, 'clip', { width: 320, height: 180, frames: 240, fps: 24 });
    const seen = record(editor, 'create', () => t);
    const { jobId } = await editor.handlers['project.create']({ projectFile: path.join(dir, 'clip.rerender'), video, shortSide: 128 });
    await finished(editor, jobId);
    checkEvents(seen, /^decoding frame (\d+) of ~(\d+)$/);
  });

  test('given a project whose frame cache is gone, when it is decoded again, then its events pass the same checks', async () => {
    const file = path.join(dir, 'clip.rerender');
    await editor.handlers['project.open']({ file });
    fs.rmSync(projectPaths(file).cacheDir, { recursive: true, force: true });
    const seen = record(editor, 'decode', () => t);
    await editor.handlers['project.open']({ file });
    const job = (editor.handlers['jobs.list']({}) as JobState[]).find((j) => j.kind === 'decode' && j.status === 'running');
    assert.ok(job, 'a decode job runs');
    await finished(editor, job.id);
    checkEvents(seen, /^decoding frame (\d+) of ~(\d+)$/);
  });

  test('given a model file, when imported, then each event says MB copied of the total, and the ETA appears once a rate is measured and counts down', async () => {
    const seen = record(editor, 'import-model', () => t);
    const { jobId } = await editor.handlers['models.import']({ source: path.join(SD_TINY, 'tiny-sd15.safetensors') });
    await finished(editor, jobId);
    // The 8.8 MB file is copied in 1 MiB chunks: nine progress events, enough for the 2 s of measuring.
    const withEta = checkEvents(seen, /^copied ([\d.]+) of ([\d.]+) MB$/);
    assert.ok(withEta.length >= 2, `an ETA once there is a rate: ${withEta.length} events had one`);
    const etas = withEta.map((s) => s.job.etaSeconds!);
    assert.ok(etas.every((e, i) => i === 0 || e <= etas[i - 1] + 1e-9), `at a steady rate the ETA counts down: ${etas.map((e) => e.toFixed(1)).join(', ')}`);
    assert.ok(fs.readdirSync(path.join(dir, 'models'), { recursive: true }).some((f) => String(f).endsWith('tiny-sd15.safetensors')), 'the model is installed');
  });

  test('given a model import, when cancelled at its first progress, then it ends as cancelled and the models folder keeps no part of it', async () => {
    const modelsDir = path.join(dir, 'models');
    const files = () => fs.readdirSync(modelsDir, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(modelsDir, f)).isFile()).sort();
    const before = files();
    const cancelled = cancelAtFirstProgress(editor, 'import-model');
    const { jobId } = await editor.handlers['models.import']({ source: path.join(SD_TINY, 'tiny-controlnet.safetensors') });
    await cancelled;
    const job = await finished(editor, jobId);
    assert.equal(job.status, 'cancelled', JSON.stringify(job.error));
    assert.equal(job.etaSeconds, undefined);
    assert.deepEqual(files(), before, 'nothing installed, no partial copy');
  });

  test('given a new project decoding, when cancelled at its first progress, then it ends as cancelled and leaves no project or frames', async () => {
    const video = makeVideo(dir, 'long', { width: 640, height: 360, frames: 400, fps: 24 });
    const projectFile = path.join(dir, 'long.rerender');
    const cancelled = cancelAtFirstProgress(editor, 'create');
    const { jobId } = await editor.handlers['project.create']({ projectFile, video, shortSide: 320 });
    await cancelled;
    const job = await finished(editor, jobId);
    assert.equal(job.status, 'cancelled', JSON.stringify(job.error));
    assert.equal(fs.existsSync(projectFile), false, 'no project file');
    assert.equal(fs.existsSync(projectPaths(projectFile).framesDir), false, 'no frames folder');
    const cache = projectPaths(projectFile).cacheDir;
    assert.deepEqual(fs.existsSync(cache) ? fs.readdirSync(cache) : [], [], 'no half-decoded folders');
  });
});
