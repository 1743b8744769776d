// `rerender fixtures-check <manifest.json>`: runs every case of a conformance manifest through our
// graphs, tokenizer and scheduler and prints each output's max abs difference against its tolerance.
import fs from 'node:fs';
import type { Command } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { checkManifest, type CaseResult } from '../../../native-models/src/conformance/check-manifest';

function formatNumber(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}

function caseLines(r: CaseResult): string[] {
  const head = `${r.pass ? 'PASS' : 'FAIL'}  ${r.case} [${r.layout}]  ${r.seconds.toFixed(1)} s${r.error ? `  error: ${r.error}` : ''}`;
  // Tokenizer-style cases report one line per prompt; show only their failures and a count.
  const indexed = r.outputs.filter((o) => o.output.includes('['));
  const lines = r.outputs.filter((o) => !o.output.includes('[') || !o.pass).map((o) =>
    `    ${o.pass ? 'ok  ' : 'FAIL'}  ${o.output.padEnd(28)} max|diff| ${formatNumber(o.maxAbsDiff).padStart(9)}  tolerance ${formatNumber(o.tolerance)}${o.error ? `  (${o.error})` : ''}`);
  if (indexed.length) lines.push(`    ${indexed.filter((o) => o.pass).length}/${indexed.length} indexed outputs (per prompt) match`);
  return [head, ...lines];
}

export const fixturesCheckCommand: Command = {
  name: 'fixtures-check',
  positionals: 1,
  summary: 'run a conformance manifest (e.g. test/fixtures/sd-tiny/manifest.json) and report each case',
  usage: `
usage: rerender fixtures-check <manifest.json> [--json] [--precision fp32|fp16] [--fused]
                               [--case <name>...] [--layout <name>...]

Runs every case of a manifest in the sd15-conformance-fixtures format from each layout the case lists
(diffusers folder, single file, ...), on ONNX Runtime's CPU provider, and prints each output's maximum
absolute difference and its tolerance. Exits with status 1 when any case fails.

  --precision fp16   build float16 graphs and compare against the outputs' fp16_tolerance
  --fused            use ORT's fused operators (com.microsoft MultiHeadAttention) in the graphs
  --case <name>...   only these cases
  --layout <name>... only these layouts (cases without weights always run)
  --json             one JSON object: { ok, cases: [...] }
`,
  flags: ['fused'],
  multi: ['case', 'layout'],
  async run(args, ctx) {
    const manifest = args.positional[0];
    if (!manifest) throw new UserError('missing the manifest file (rerender fixtures-check <manifest.json>)');
    if (!fs.existsSync(manifest)) throw new UserError('file not found', manifest);
    const precision = args.string('precision') ?? 'fp32';
    if (precision !== 'fp32' && precision !== 'fp16') throw new UserError(`--precision must be fp32 or fp16, got "${precision}"`);
    const results = await checkManifest(manifest, {
      precision,
      fusedOps: args.flag('fused'),
      cases: args.options.get('case'),
      layouts: args.options.get('layout'),
      onCase: (r) => { if (!ctx.json) for (const line of caseLines(r)) ctx.out(line); },
    });
    const failed = results.filter((r) => !r.pass);
    if (ctx.json) {
      ctx.out(JSON.stringify({ ok: failed.length === 0 && results.length > 0, precision, cases: results }));
    } else {
      ctx.out(`${results.length - failed.length}/${results.length} case runs passed${failed.length ? `; failed: ${failed.map((r) => `${r.case} [${r.layout}]`).join(', ')}` : ''}`);
    }
    if (results.length === 0) ctx.err('no case matched the filters');
    return failed.length === 0 && results.length > 0 ? 0 : 1;
  },
};
