// ONNX Runtime is loaded through one module only (native-models/src/runtime/onnxruntime.ts), which turns
// its telemetry off before the library loads: a direct import anywhere else would skip that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const DOOR = path.join('native-models', 'src', 'runtime', 'onnxruntime.ts');
const SELF = path.relative(ROOT, __filename);

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sources(rel);
    return /\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(e.name) ? [rel] : [];
  });
}

test('given every source, test, bench and script file, then only the door module imports onnxruntime-node', () => {
  const direct = ['main', 'native-models/src', 'preload', 'renderer', 'scripts', 'test']
    .filter((d) => fs.existsSync(path.join(ROOT, d)))
    .flatMap(sources)
    .filter((f) => f !== DOOR && f !== SELF && /(from\s+|require\(\s*|import\(\s*)['"]onnxruntime-(node|common)['"]/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
  assert.deepEqual(direct, [], `import ort from ${DOOR} instead`);
});

test('given the door module, then telemetry is switched off before onnxruntime-node loads', () => {
  const door = fs.readFileSync(path.join(ROOT, DOOR), 'utf8');
  const off = door.indexOf("import './telemetry-off'");
  const load = door.indexOf("export * from 'onnxruntime-node'");
  assert.ok(off >= 0 && load > off, 'telemetry-off is imported first');
  assert.match(fs.readFileSync(path.join(ROOT, 'native-models/src/runtime/telemetry-off.ts'), 'utf8'), /process\.env\.ORT_DISABLE_TELEMETRY = '1'/);
});
