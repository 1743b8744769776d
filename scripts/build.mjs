// One build for every part: Electron main, preload (CommonJS bundle), workers, CLI and renderer.
import { build } from 'esbuild';
import { cpSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist');
const nodeExternal = ['electron', 'onnxruntime-node', 'sharp', 'ws', 'ffmpeg-static', 'bullmq', 'ioredis', '*.node'];
const node = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, external: nodeExternal, logLevel: 'warning' };

const nodeEntries = {
  'main/electron-main': 'main/shell/electron-main.ts',
  'cli/rerender': 'main/cli/rerender.ts',
  'workers/propagation-worker': 'main/engine/workers/propagation-worker.ts',
  'workers/inference-worker': 'main/engine/workers/inference-worker.ts',
};

await Promise.all([
  ...Object.entries(nodeEntries).map(([name, src]) =>
    build({ ...node, entryPoints: [path.join(root, src)], outfile: path.join(out, `${name}.js`) }),
  ),
  build({ ...node, entryPoints: [path.join(root, 'preload/preload.ts')], outfile: path.join(out, 'preload/preload.js'), external: ['electron'] }),
  build({
    bundle: true, platform: 'browser', target: 'chrome120', format: 'esm', sourcemap: true, logLevel: 'warning',
    entryPoints: [path.join(root, 'renderer/main.tsx')], outfile: path.join(out, 'renderer/app.js'),
    jsx: 'automatic', loader: { '.css': 'css' }, define: { 'process.env.NODE_ENV': '"production"' },
  }),
  // The image decoder worker the renderer starts (renderer/image-cache.ts): a classic script beside app.js.
  build({
    bundle: true, platform: 'browser', target: 'chrome120', format: 'iife', sourcemap: true, logLevel: 'warning',
    entryPoints: [path.join(root, 'renderer/image-worker.ts')], outfile: path.join(out, 'renderer/image-worker.js'),
  }),
]);
mkdirSync(path.join(out, 'renderer'), { recursive: true });
cpSync(path.join(root, 'renderer/index.html'), path.join(out, 'renderer/index.html'));
if (!existsSync(path.join(root, 'native-models/addon/build/Release/rerender_native.node'))) {
  console.warn('warning: the native addon is not built; run `npm rebuild` or `npx node-gyp rebuild --directory native-models/addon`');
}
