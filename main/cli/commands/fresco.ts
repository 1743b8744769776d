// `rerender fresco`: render every keyframe of a project in FRESCO mode (ALGORITHM.md §6), with a switch per
// component. `frescoSettingsFrom` is also what `rerender render --mode fresco` reads its switches with.
import type { Command, ParsedArgs } from '../command';
import { cliProgress } from '../progress';
import { CancelToken, UserError } from '../../engine/errors';
import { withProjectLock } from '../../engine/project/project-lock';
import { renderFrescoProject } from '../../engine/fresco/render-fresco-project';
import type { FrescoSettings } from '../../engine/fresco/settings';

export const FRESCO_FLAGS = ['no-spatial', 'no-temporal', 'no-cross-frame', 'no-optimise', 'background-smoothing'] as const;

export const FRESCO_USAGE = `
  --batch-size N          keyframes per batch, prefix included (default 8)
  --no-spatial            spatial-guided attention off
  --no-temporal           temporal-guided attention off
  --no-cross-frame        efficient cross-frame attention off
  --no-optimise           feature optimisation off
  --background-smoothing  smooth the background between keyframes (needs --saliency)
  --saliency <file.onnx>  salient-object model for background smoothing`;

export function frescoSettingsFrom(args: ParsedArgs): Partial<FrescoSettings> {
  const s: Partial<FrescoSettings> = {};
  const size = args.int('batch-size');
  if (size !== undefined) {
    if (size < 3 || size > 64) throw new UserError(`--batch-size must be from 3 to 64, got ${size}`);
    s.batchSize = size;
  }
  if (args.flag('no-spatial')) s.spatialAttention = false;
  if (args.flag('no-temporal')) s.temporalAttention = false;
  if (args.flag('no-cross-frame')) s.crossFrameAttention = false;
  if (args.flag('no-optimise')) s.featureOptimisation = false;
  if (args.flag('background-smoothing')) s.backgroundSmoothing = true;
  return s;
}

export const frescoCommand: Command = {
  name: 'fresco',
  summary: 'render every keyframe in FRESCO mode (batches with spatial-temporal correspondence)',
  usage: `
usage: rerender fresco <project-file> [options] [--models-dir <dir>] [--tokenizer <dir>] [--detector <file.onnx>] [--json]
${FRESCO_USAGE}`,
  flags: [...FRESCO_FLAGS, 'json'],
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file');
    const cancel = new CancelToken();
    process.once('SIGINT', () => cancel.cancel('cancelled by Ctrl-C'));
    const progress = cliProgress('FRESCO');
    const summary = await withProjectLock(file, () => renderFrescoProject({
      projectFile: file, settings: frescoSettingsFrom(args), saliencyModel: args.string('saliency'),
      modelsDir: args.string('models-dir'), tokenizer: args.string('tokenizer'), detector: args.string('detector'),
      cancel, progress,
    }));
    progress.done();
    if (ctx.json) { ctx.out(JSON.stringify({ ok: true, ...summary })); return; }
    for (const r of summary.rendered) ctx.out(`keyframe at frame ${r.frame}: ${r.image} (revision ${r.revision})`);
    for (const u of summary.unavailable) ctx.err(`unavailable: ${u}`);
    ctx.out(`${summary.rendered.length} keyframes in ${summary.batches.length} batches, ${summary.seconds.toFixed(1)} s`);
  },
};
