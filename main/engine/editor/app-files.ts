// Where the app's own files are: worker modules (built bundles, or the .ts sources under tsx in dev and
// tests), the built renderer, the bundled sample project.
import fs from 'node:fs';
import path from 'node:path';

function isAppPackage(file: string): boolean {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).name === 'rerender-editor';
  } catch {
    return false;
  }
}

/** The folder holding package.json, found by walking up (works from sources and from dist/ bundles). */
export function appRoot(start = __dirname): string {
  let dir = start;
  for (;;) {
    if (isAppPackage(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(start, '..', '..', '..');
    dir = up;
  }
}

/** Running from TypeScript sources (tsx) rather than the esbuild bundles. */
function fromSources(): boolean {
  return __filename.endsWith('.ts');
}

export function workerModules(root = appRoot()): { propagation: string; inference: string } {
  const pick = (name: string) => fromSources()
    ? path.join(root, 'main', 'engine', 'workers', `${name}.ts`)
    : path.join(root, 'dist', 'workers', `${name}.js`);
  return { propagation: pick('propagation-worker'), inference: pick('inference-worker') };
}

export function rendererDir(root = appRoot()): string {
  return path.join(root, 'dist', 'renderer');
}
