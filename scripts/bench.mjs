// `npm run bench`: runs every test/bench/*.bench.ts (or those matching the arguments) and prints their figures.
// An argument that is a bench's whole name selects that bench alone (`propagation` runs
// propagation.bench.ts, not every propagation-* bench); any other argument selects the names containing it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Arguments starting with -- go to every bench (`npm run bench -- flow --only-real`); the rest pick benches
// (a bench's whole name selects it alone, any other text every bench whose name contains it).
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passed = process.argv.slice(2).filter((a) => a.startsWith('--'));
const all = readdirSync(path.join(root, 'test/bench')).filter((f) => f.endsWith('.bench.ts')).sort();
const names = new Set(all.map((f) => f.slice(0, -'.bench.ts'.length)));
const benches = all.filter((f) => filters.length === 0 || filters.some((x) => (names.has(x) ? f === `${x}.bench.ts` : f.includes(x))));

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join('test/bench', b), ...passed], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.log(`(${b} exited with ${r.status})`); }
}
process.exit(failed ? 1 : 0);
