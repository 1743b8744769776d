// `rerender render`: render one keyframe (regenerate it without touching the others) or all of them,
// with the project's settings unless options change them; in FRESCO mode with a switch per component.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, CommandContext, ParsedArgs } from '../command';
import { cliProgress } from '../progress';
import { CancelToken, UserError } from '../../../native-models/src/errors';
import { findInstalledModel, resolveModelsDir } from '../../../native-models/src/model-manager';
import { type FrescoSettings, type ModelSelection, type Project, type RenderOverrides } from '../../../preload/project-schema';
import { numberRange } from '../../../preload/setting-ranges';
import { renderKeyframes, type RenderRequest, type RenderSummary } from '../../engine/render/render-project';
import type { FarmRenderSummary } from '../../farm/submit-render';
import { parseRedisUrl } from '../../farm/connection';
import { renderOnFarm } from '../../farm/submit-render';
import { count } from '../../../preload/plural';

export const FRESCO_FLAGS = ['no-spatial', 'no-temporal', 'no-cross-frame', 'no-optimise', 'background-smoothing', 'no-background-smoothing'] as const;

export const FRESCO_USAGE = `
  --batch-size N          keyframes per batch, prefix included (default 8)
  --no-spatial            spatial-guided attention off
  --no-temporal           temporal-guided attention off
  --no-cross-frame        efficient cross-frame attention off
  --no-optimise           feature optimisation off
  --optimise-blocks 0,1   the up blocks whose input features are optimised (default 0,1; the method
                          optimises 0,1,2,3, which costs minutes per step on a CPU at 512×512)
  --background-smoothing  smooth the background between keyframes (needs --saliency);
  --no-background-smoothing  its opposite
  --saliency <file.onnx>  salient-object model for background smoothing
  (the switches are saved in the project; the saliency model is used for this run)`;

/** FRESCO switches given on the command line (the rest keep the project's values). */
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
  if (args.flag('no-background-smoothing')) s.backgroundSmoothing = false;
  const blocks = args.string('optimise-blocks');
  if (blocks !== undefined) {
    const list = blocks.split(',').map((b) => Number(b.trim()));
    if (!list.every((b) => Number.isInteger(b) && b >= 0 && b <= 8)) throw new UserError(`--optimise-blocks takes up-block numbers from 0 to 8 separated by commas (e.g. 0,1,2,3), got "${blocks}"`);
    s.optimisedUpBlocks = [...new Set(list)].sort((a, b) => a - b);
  }
  return s;
}

/** `file.safetensors:0.8` → file and multiplier; a trailing part that is not a number belongs to the path (C:\…). */
export function parseLora(text: string): { file: string; multiplier: number } {
  const at = text.lastIndexOf(':');
  const tail = at > 0 ? text.slice(at + 1) : '';
  if (tail !== '' && Number.isFinite(Number(tail))) return { file: path.resolve(text.slice(0, at)), multiplier: Number(tail) };
  return { file: path.resolve(text), multiplier: 1 };
}

/** `value` of option --`name` checked against its schema's range, with the range in the error. */
function inRange(name: string, value: number, setting: string, what = ''): number {
  const { min, max } = numberRange(setting);
  if (value < min || value > max) throw new UserError(`--${name}${what} must be from ${min} to ${max}, got ${value}`);
  return value;
}

function overridesFrom(args: ParsedArgs): RenderOverrides {
  const o: RenderOverrides = {};
  const prompt = args.string('prompt');
  if (prompt !== undefined) o.prompt = prompt;
  const negative = args.string('negative');
  if (negative !== undefined) o.negativePrompt = negative;
  // The ranges are the project schema's (read as the inspector reads them), not re-typed here.
  const seed = args.int('seed');
  if (seed !== undefined) o.seed = inRange('seed', seed, 'seed');
  const steps = args.int('steps');
  if (steps !== undefined) o.steps = inRange('steps', steps, 'steps');
  const strength = args.number('strength');
  if (strength !== undefined) o.strength = inRange('strength', strength, 'strength', ' (the denoising strength)');
  return o;
}

/** A model given on the command line: a path (from the current folder), else a name in the models folder as `models list` or the editor shows it. */
async function givenModel(given: string, what: string, modelsDir: string): Promise<string> {
  const asPath = path.resolve(given);
  if (fs.existsSync(asPath)) return asPath;
  const installed = await findInstalledModel(modelsDir, given);
  if (installed) return installed;
  throw new UserError(`no ${what} "${given}": neither ${asPath} exists nor a model of that name in the models folder ${modelsDir} (\`rerender models list\` shows them)`);
}

async function modelsFrom(args: ParsedArgs): Promise<Partial<ModelSelection>> {
  const m: Partial<ModelSelection> = {};
  const modelsDir = resolveModelsDir(args.string('models-dir'));
  const model = args.string('model');
  if (model) m.checkpoint = await givenModel(model, 'checkpoint', modelsDir);
  const controlnet = args.string('controlnet');
  // `none` removes the project's ControlNet (a file of that name is given as ./none).
  if (controlnet) m.controlnet = controlnet === 'none' ? null : await givenModel(controlnet, 'ControlNet', modelsDir);
  const loras = args.options.get('lora');
  if (loras?.length) m.loras = loras.map(parseLora);
  return m;
}

export const renderCommand: Command = {
  name: 'render',
  positionals: 1,
  summary: 'render keyframes with the text prompt (one keyframe, or all in order)',
  usage: `
usage: rerender render <project-file> [--frame N | --all] [--prompt …] [--negative …] [--seed N]
       [--steps N] [--model <checkpoint>] [--lora <file>[:mult]] [--controlnet <file>] [--strength …]
       [--mode rerender|independent|fresco] [--models-dir <dir>] [--tokenizer <dir>] [--detector <file.onnx>]
       [--farm URL] [--json]

  --frame N        render (or regenerate) the keyframe at frame N only; other keyframes' files are
                   left alone, and the keyframes and segments that depended on it are marked stale
  --all            render every keyframe in timeline order (the default)
  --prompt, --negative, --seed, --steps, --strength
                   change those settings: for --frame N they become that keyframe's overrides, for
                   --all the project's defaults (they are saved in the project)
  --model, --lora, --controlnet
                   choose the checkpoint, LoRAs (repeat --lora; multiplier after a colon, default 1)
                   and ControlNet (saved in the project; --controlnet none removes it). --model and
                   --controlnet take a path, or a name as \`rerender models list\` prints it or the
                   editor shows it (diffusers/foo), found in the models folder
  --mode           rerender: anchor + cross-frame constraints; independent: every keyframe alone
                   (plain image-to-image), the baseline to compare with; fresco: keyframes in FRESCO
                   batches (spatial-temporal correspondence; --frame N renders that keyframe in a batch
                   with the first keyframe and the one before it). Saved in the project; without
                   --mode the project's method is used. FRESCO's switches:${FRESCO_USAGE.replace(/\n  /g, '\n    ')}
  --models-dir     models folder (default $RERENDER_MODELS or ~/.rerender/models)
  --tokenizer      CLIP tokenizer folder, when the checkpoint is a single file
  --detector       ONNX soft-edge or depth detector for those ControlNet types
  --farm URL       render on the render farm at this Redis (redis://[:PASSWORD@]host:6379): one job per
                   keyframe on workers that take render jobs (\`rerender farm\`), the anchor first and
                   each later keyframe after the one before it (independent keyframes all at once; in
                   FRESCO mode one job per batch, all at once); the results are committed here like a
                   local render. The workers use their own models folders and
                   --tokenizer/--detector/--saliency are theirs.`,
  flags: ['all', 'json', ...FRESCO_FLAGS],
  run: (args, ctx) => runRender(args, ctx),
};

/** `render`, and `fresco` (which is `render --mode fresco`). */
export async function runRender(args: ParsedArgs, ctx: CommandContext, forcedMode?: Project['mode']): Promise<void> {
  const file = args.positional[0];
  if (!file) throw new UserError('missing the project file');
  const frame = args.int('frame');
  if (frame !== undefined && args.flag('all')) throw new UserError('use either --frame N or --all, not both');
  const mode = forcedMode ?? args.string('mode');
  if (mode !== undefined && mode !== 'rerender' && mode !== 'independent' && mode !== 'fresco') throw new UserError(`--mode must be rerender, independent or fresco, got "${mode}"`);
  // Every argument is checked before any work starts (a bad value never waits for a decode).
  const overrides = overridesFrom(args), models = await modelsFrom(args), fresco = frescoSettingsFrom(args);
  const cancel = new CancelToken();
  process.once('SIGINT', () => cancel.cancel('cancelled by Ctrl-C'));
  const progress = cliProgress('rendering');
  // The project's store holds its lock for the run and rebuilds a deleted frame cache first.
  const farm = args.string('farm');
  const request = (): RenderRequest => ({
    projectFile: file,
    target: frame !== undefined ? { frame } : 'all' as const,
    overrides, models, mode,
    fresco, saliencyModel: args.string('saliency'),
    modelsDir: args.string('models-dir'), tokenizer: args.string('tokenizer'), detector: args.string('detector'),
    cancel, progress,
  });
  if (farm !== undefined && (args.string('tokenizer') || args.string('detector') || args.string('saliency'))) {
    throw new UserError('--tokenizer, --detector and --saliency are not sent to the farm: each worker finds them in its own models folder');
  }
  const summary: RenderSummary & Partial<Pick<FarmRenderSummary, 'farm'>> = farm !== undefined
    ? await renderOnFarm(request(), { connection: parseRedisUrl(farm, process.env), cancel, onProgress: progress, onWarning: (w) => ctx.err(`warning: ${w}`) })
    : await renderKeyframes(request());
  progress.done();
  if (ctx.json) { ctx.out(JSON.stringify({ ok: true, ...summary })); return; }
  for (const r of summary.rendered) ctx.out(`keyframe at frame ${r.frame}: ${r.image} (revision ${r.revision}, ${r.seconds.toFixed(1)} s, ${r.unetCalls} UNet calls)`);
  if (summary.farm) ctx.out(`rendered on the farm by ${summary.farm.workers.join(', ') || 'no new work'} (${count(summary.farm.jobsShared, 'keyframe')} already done or shared)`);
  if (summary.fresco) ctx.out(`${summary.fresco.batches.length} FRESCO batches`);
  if (summary.provider) {
    const skipped = (summary.skippedProviders ?? []).map((s) => `${s.provider}: ${s.reason}`).join('; ');
    ctx.out(`models ran on ${summary.provider}${skipped ? ` (not used: ${skipped})` : ''}`);
  }
  for (const w of summary.warnings) ctx.err(`warning: ${w}`);
  for (const s of summary.stale) ctx.out(`out of date: keyframe at frame ${s.frame} (${s.reason})`);
  if (summary.staleSegments.length) ctx.out(`propagated segments to redo: ${summary.staleSegments.join(', ')}`);
}
