// Collecting old cache entries (segment outputs, flow sets, measurements) by size (issue 15): over the limit, keys no segment uses go least
// recently used first; current keys never go; a folder being written is skipped; the command prints sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { collectCache, currentOutputKeys, listCache } from '../../main/engine/project/cache-collector';
import { completeMarker, flickerMeasureKey, flickerMeasurePath, measuresDir, segmentOutputDir } from '../../main/engine/project/output-keys';
import { projectPaths } from '../../main/engine/project/paths';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';

const DAY = 24 * 3600 * 1000;

/** An output folder of `bytes` bytes last used `ageDays` ago; complete unless told otherwise. */
function entry(file: string, key: string, bytes: number, ageDays: number, complete = true): void {
  const dir = segmentOutputDir(file, key);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '00001.png'), Buffer.alloc(bytes));
  if (complete) fs.writeFileSync(completeMarker(file, key), JSON.stringify({ start: 0, end: 1, settings: 's', source: 's' }));
  const t = new Date(Date.now() - ageDays * DAY);
  for (const f of fs.readdirSync(dir)) fs.utimesSync(path.join(dir, f), t, t);
  fs.utimesSync(dir, t, t);
}

async function setUp() {
  const file = path.join(tempDir('rerender-cache-'), 'clip.rerender');
  const p = sampleProject(21, [0, 10, 20]);
  await writeProjectFile(file, p);
  const current = [...currentOutputKeys(p)];
  entry(file, current[0], 5000, 30); // oldest of all, but current
  entry(file, '0-10-aaaaaaaaaaaaaaaa', 1000, 20);
  entry(file, '0-10-bbbbbbbbbbbbbbbb', 1000, 10);
  entry(file, '0-10-cccccccccccccccc', 1000, 5);
  entry(file, '10-20-dddddddddddddddd', 1000, 0, false); // being written: incomplete, changed just now
  return { file, p, current };
}

test('given a cache over the limit, when collected, then old keys go oldest first until it fits and current keys and folders being written stay', async () => {
  const { file, p, current } = await setUp();
  const report = await collectCache(file, p, { limitBytes: 7500 });
  assert.equal(report.totalBytes, 9000 + fs.statSync(completeMarker(file, current[0])).size * 4);
  assert.deepEqual(report.removed.map((e) => e.key), ['0-10-aaaaaaaaaaaaaaaa', '0-10-bbbbbbbbbbbbbbbb']);
  assert.ok(!fs.existsSync(segmentOutputDir(file, '0-10-aaaaaaaaaaaaaaaa')));
  assert.ok(!fs.existsSync(segmentOutputDir(file, '0-10-bbbbbbbbbbbbbbbb')));
  assert.ok(fs.existsSync(segmentOutputDir(file, '0-10-cccccccccccccccc')));
  assert.ok(fs.existsSync(segmentOutputDir(file, current[0])));

  // A limit nothing old can meet: every old key goes, the current one and the one being written stay.
  const second = await collectCache(file, p, { limitBytes: 1 });
  assert.deepEqual(second.removed.map((e) => e.key), ['0-10-cccccccccccccccc']);
  assert.ok(fs.existsSync(segmentOutputDir(file, current[0])), 'a current key never goes');
  assert.ok(fs.existsSync(segmentOutputDir(file, '10-20-dddddddddddddddd')), 'a folder being written is skipped');
});

test('given keys the caller keeps (the undo history), when collected, then they stay like current ones', async () => {
  const { file, p } = await setUp();
  const report = await collectCache(file, p, { limitBytes: 1, keep: ['0-10-aaaaaaaaaaaaaaaa'] });
  assert.deepEqual(report.removed.map((e) => e.key), ['0-10-bbbbbbbbbbbbbbbb', '0-10-cccccccccccccccc']);
  assert.ok(fs.existsSync(segmentOutputDir(file, '0-10-aaaaaaaaaaaaaaaa')));
});

test('given flicker measurements, when collected, then the current state\'s stays and older ones (and the layout before keys) go', async () => {
  const file = path.join(tempDir('rerender-cache-'), 'clip.rerender');
  const p = sampleProject(21, [0, 10, 20]);
  await writeProjectFile(file, p);
  const current = flickerMeasureKey(file, p);
  fs.mkdirSync(measuresDir(file), { recursive: true });
  for (const key of [current, '0123456789abcdef']) fs.writeFileSync(flickerMeasurePath(file, key), JSON.stringify({ values: [0.5] }));
  fs.writeFileSync(path.join(projectPaths(file).cacheDir, 'metrics', 'warp-error.json'), JSON.stringify({ values: [0.5] }));
  const listed = (await listCache(file, p)).filter((e) => e.kind === 'measure').map((e) => [e.path, e.current]).sort();
  assert.deepEqual(listed, [['metrics/warp-error.json', false], [`metrics/warp-error/${current}.json`, true], ['metrics/warp-error/0123456789abcdef.json', false]].sort());
  const report = await collectCache(file, p, { limitBytes: 1 });
  assert.deepEqual(report.removed.map((e) => e.path).sort(), ['metrics/warp-error.json', 'metrics/warp-error/0123456789abcdef.json']);
  assert.ok(fs.existsSync(flickerMeasurePath(file, current)));
});

test('given a project, when `rerender cache` runs, then it prints sizes and what it would remove, and removes only with --collect', { timeout: 120_000 }, async () => {
  const { file, current } = await setUp();
  const dry = rerender(['cache', file, '--limit-gb', '1']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`${current[0]}\\s+4\\.\\d kB .* current`));
  assert.match(dry.stdout, /5 entries, .* kB \(limit 1\.00 GB\); would remove 0/);
  const bad = rerender(['cache', file, '--limit-gb', '0']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /outside 1…10000 GB/);
  const json = rerender(['cache', file, '--limit-gb', '1', '--collect', '--json']).json();
  assert.equal(json.ok, true);
  assert.equal(json.entries.length, 5);
  assert.deepEqual(json.removed, []);
});
