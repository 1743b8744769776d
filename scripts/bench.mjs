// `npm run bench`: runs every test/bench/*.bench.ts (or those matching the arguments) and prints their figures.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Arguments starting with -- go to every bench (`npm run bench -- flow --only-real`); the rest pick benches.
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passed = process.argv.slice(2).filter((a) => a.startsWith('--'));
const benches = readdirSync(path.join(root, 'test/bench')).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join('test/bench', b), ...passed], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.log(`(${b} exited with ${r.status})`); }
}
process.exit(failed ? 1 : 0);
