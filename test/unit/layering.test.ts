// Given the source tree, only the Electron shell and the preload may import `electron`, the renderer
// never imports Node built-ins or engine code, layers only point down (main → preload, native-models; renderer → preload),
// and no two files import each other, directly or through others (an import cycle).
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

const importRe = /(?:import\s[^'"]*?from\s*|export\s[^'"]*?from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;
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

/** The source file a relative import of `file` resolves to, or undefined (a package, an asset). */
function resolveImport(file: string, spec: string, files: Set<string>): string | undefined {
  const base = path.normalize(path.join(path.dirname(file), spec));
  const noJs = base.replace(/\.(c|m)?js$/, '');
  return [base, `${base}.ts`, `${base}.tsx`, `${noJs}.ts`, `${noJs}.tsx`, path.join(base, 'index.ts')].find((c) => files.has(c));
}

test('no import cycles between files (type-only imports count too: a newcomer reads them as dependencies)', () => {
  const files = ['main', 'native-models/src', 'preload', 'renderer'].flatMap(sources);
  const known = new Set(files);
  const edges = new Map(files.map((f) => [f, importsOf(f).filter((s) => s.startsWith('.')).map((s) => resolveImport(f, s, known)).filter((t): t is string => !!t)]));
  // Depth-first search; a file met again while still on the path closes a cycle.
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of edges.get(f) ?? []) {
      if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].join(' → '));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});
