// Propagation's progress follows its work, so that the ETA measured from it holds (issue 16 item 13):
// a run resumed after a cancel counts neither the segments an earlier run finished nor, as syntheses, the
// chain steps it reads back; fed on a clock that advances by what each event really did (a second a
// synthesis and half one a frame finished, as the files written show, a tenth a read-back), the ETA
// is steady and right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tempDir } from '../helpers/media';
import { makeFarmProject } from '../helpers/farm';
import { assertSteady, readings } from '../helpers/eta';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { segmentsOf } from '../../main/engine/project/keyframes';
import { projectPaths } from '../../main/engine/project/paths';
import { readProjectFile } from '../../main/engine/project/project-file';
import { CancelToken, CancelledError } from '../../native-models/src/errors';

/** Files under `dir` now whose names match `pattern`, by path. */
function filesIn(dir: string, pattern: RegExp): string[] {
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => pattern.test(f)) : [];
}

/** What the project's folders hold now: chain steps (each a synthesis run) and output frames (each finished). */
const made = (file: string) => [...filesIn(projectPaths(file).segmentsDir, /step/).map((f) => `step ${f}`), ...filesIn(projectPaths(file).outputDir, /\d{5}\.png$/).map((f) => `frame ${f}`)];

test('given a propagation cancelled in its second segment, when run again, then its progress counts only the work left and its ETA is steady and close to the time left', { timeout: 20 * 60_000 }, async () => {
  const { file, project } = await makeFarmProject(tempDir('rerender-progress-'), 32, [0, 10, 20]);
  const [first, second] = segmentsOf(project);
  const cancel = new CancelToken();
  await assert.rejects(
    propagateProject(file, project, { cancel, onSegment: (id, done) => { if (id === second.id && done === 3) cancel.cancel(); } }),
    (e: Error) => e instanceof CancelledError,
  );

  // The resumed run, each progress event timed by what it did: a new step file is a synthesis run (1 s),
  // a new output frame a frame finished (half of one), and an advance that made nothing a step read back.
  const seen = new Set(made(file));
  let clock = 0, last = 0;
  const events: Array<[number, number]> = [];
  const result = await propagateProject(file, await readProjectFile(file), {
    onProgress: (f) => {
      const fresh = made(file).filter((s) => !seen.has(s));
      fresh.forEach((s) => seen.add(s));
      const cost = fresh.reduce((n, s) => n + (s.startsWith('step') ? 1 : 0.5), 0);
      if (cost) clock += cost; else if (f > last) clock += 0.1;
      last = f;
      events.push([clock, f]);
    },
  });
  assert.ok(result.synthesesReused > 0 && result.synthesesRun >= 8, `a resumed run: ${JSON.stringify(result)}`);
  assert.ok(result.framesKept >= first.end - first.start + 1, 'the first segment was kept');
  assert.ok(events[0][1] < 0.01, `the finished segment is not counted as progress: the first event is at ${(events[0][1] * 100).toFixed(1)} %`);
  // Steady (the estimator's promise) and right: within a factor 1.5 of the work truly left.
  const end = clock;
  const shown = readings(events);
  assertSteady(shown, 'resumed propagation');
  for (const r of shown.filter((x) => x.eta !== undefined && x.f < 0.9)) {
    const left = end - r.t;
    assert.ok(r.eta! < left * 1.5 + 1 && r.eta! > left / 1.5 - 1, `at ${(r.f * 100).toFixed(0)} % (${r.t.toFixed(2)} syntheses in) the estimate is ${r.eta!.toFixed(1)}, truly ${left.toFixed(1)} left`);
  }
});
