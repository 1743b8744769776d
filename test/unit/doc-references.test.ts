// Documents the source points at are in the repository: every name ending in ".md" in the code, its
// comments and its docs resolves to a tracked file (next to the file, in a folder above it, or by its
// path's tail), so a newcomer can follow each pointer. The method's steps are in docs/METHOD.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
const known = new Set(tracked);

/** Whether a relative name points above the repository's root. */
function outsideRepo(name: string): boolean {
  return path.relative(root, path.resolve(root, name)).startsWith('..');
}

/** Whether `name`, met in `file`, is a tracked document. */
function resolves(file: string, name: string): boolean {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (known.has(path.normalize(path.join(dir, name)))) return true;
    if (dir === '.' || dir === '') break;
  }
  return !name.startsWith('.') && tracked.some((f) => f.endsWith(`/${name}`));
}

test('given every document the source names, then it is in the repository', () => {
  const sources = tracked.filter((f) => /^(main|preload|renderer|native-models\/(src|addon\/src)|test|scripts|docs)\//.test(f) && /\.(ts|tsx|mjs|js|cc|h|md)$/.test(f));
  const missing: string[] = [];
  for (const file of sources) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b/g)) {
      // A bench may name an outside input beside the repository (the comparison bench's reference
      // pipeline, which it skips without): where to find it, not a document of ours.
      if (file.startsWith('test/bench/') && outsideRepo(m[0])) continue;
      if (!resolves(file, m[0])) missing.push(`${file}: ${m[0]}`);
    }
  }
  assert.ok(sources.length > 100, `${sources.length} files scanned`);
  assert.deepEqual(missing, []);
});
