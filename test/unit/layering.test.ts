// Given the source tree, only the Electron shell and the preload may import `electron`, the renderer
// never imports Node built-ins or engine code, and layers only point down (main → preload, native-models; renderer → preload).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sources(rel);
    return /\.(ts|tsx|mts|cts|js|cjs|mjs)$/.test(e.name) ? [rel] : [];
  });
}

const importRe = /(?:import\s[^'"]*?from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(importRe)].map((m) => m[1]);
}

test('only main/shell and preload import electron', () => {
  const offenders = ['main', 'native-models/src', 'renderer', 'test', 'preload']
    .flatMap(sources)
    .filter((f) => !f.startsWith(path.join('main', 'shell')) && !f.startsWith('preload' + path.sep + 'preload'))
    .filter((f) => importsOf(f).some((s) => s === 'electron' || s.startsWith('electron/')));
  assert.deepEqual(offenders, []);
});

test('the renderer uses no Node built-ins and no engine code', () => {
  const offenders = sources('renderer').flatMap((f) =>
    importsOf(f)
      .filter((s) => s.startsWith('node:') || ['fs', 'path', 'child_process', 'os'].includes(s) || /(^|\/)(main|native-models)\//.test(s))
      .map((s) => `${f} imports ${s}`),
  );
  assert.deepEqual(offenders, []);
});

/** Where a relative import of `file` lands, as a path from the root (extension left off). */
function importTargets(file: string): string[] {
  return importsOf(file)
    .filter((s) => s.startsWith('.'))
    .map((s) => path.normalize(path.join(path.dirname(file), s)));
}

test('native-models imports nothing from main, preload or renderer (layers only point down)', () => {
  const offenders = sources('native-models/src').flatMap((f) =>
    importTargets(f).filter((t) => /^(main|preload|renderer)(\/|$)/.test(t)).map((t) => `${f} imports ${t}`),
  );
  assert.deepEqual(offenders, []);
});

test('the contract in preload imports nothing from the engine, native-models or the renderer', () => {
  const offenders = sources('preload').flatMap((f) =>
    importTargets(f).filter((t) => /^(main|native-models|renderer)(\/|$)/.test(t)).map((t) => `${f} imports ${t}`),
  );
  assert.deepEqual(offenders, []);
});
