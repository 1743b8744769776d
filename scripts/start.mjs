// `npm start`: opens the editor on the bundled sample project. Uses the Electron app where its binary is
// available; otherwise says so and serves the same editor to a browser on this machine (serve mode).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const project = process.argv[2] ?? path.join(root, 'resources', 'sample', 'sample.rerender');

function electronBinary() {
  try {
    const p = require('electron'); // the electron package resolves its binary path, throwing if absent
    return typeof p === 'string' && fs.existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

const electron = electronBinary();
if (electron && !process.env.RERENDER_SERVE) {
  const child = spawn(electron, [path.join(root, 'dist', 'main', 'electron-main.js'), project], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(electron ? 'RERENDER_SERVE is set: starting serve mode.' :
    'The Electron binary is not available on this machine (it is fetched on first run and this machine cannot download it).\n' +
    'Starting serve mode instead: the same editor, in your browser, on this machine only.');
  const child = spawn(process.execPath, [path.join(root, 'main', 'cli', 'rerender-bin.cjs'), 'serve', '--project', project], { stdio: 'inherit' });
  process.on('SIGINT', () => child.kill('SIGINT'));
  child.on('exit', (code) => process.exit(code ?? 0));
}
