// `npm start`: opens the editor on the bundled sample project. Uses the Electron app where its binary is
// available; otherwise says so and serves the same editor to a browser on this machine (serve mode).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Without an argument: the user's copy of the sample (Documents/Rerender/Sample project, made from
// resources/sample on first use), never the bundled files themselves, which saving would change.
const projectArgs = process.argv[2] ? [process.argv[2]] : ['--sample'];

/** The electron package resolves its binary, downloading it on first use; run that quietly in a child. */
function electronBinary() {
  console.log('Looking for the Electron binary (downloaded on first run where the network allows)…');
  const r = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p && fs.existsSync(p) ? p : undefined;
}

const electron = electronBinary();
if (electron && !process.env.RERENDER_SERVE) {
  const child = spawn(electron, [path.join(root, 'dist', 'main', 'electron-main.js'), ...projectArgs], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(electron ? 'RERENDER_SERVE is set: starting serve mode.' :
    'The Electron binary is not available on this machine (it is fetched on first run and this machine cannot download it).\n' +
    'Starting serve mode instead: the same editor, in your browser, on this machine only.');
  const child = spawn(process.execPath, [path.join(root, 'main', 'cli', 'rerender-bin.cjs'), 'serve', ...projectArgs], { stdio: 'inherit' });
  process.on('SIGINT', () => child.kill('SIGINT'));
  child.on('exit', (code) => process.exit(code ?? 0));
}
