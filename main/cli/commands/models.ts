// `rerender models`: list, import and download models in the user's models folder.
import type { Command, CommandContext } from '../command';
import { cliProgress } from '../progress';
import { CancelToken, UserError } from '../../../native-models/src/errors';
import { downloadModel, downloadTokenizer, importModel, listModels, resolveModelsDir, type InstalledModel } from '../../../native-models/src/model-manager';

function interruptToken(): CancelToken {
  const token = new CancelToken();
  process.once('SIGINT', () => token.cancel('cancelled by Ctrl-C (run the download again to resume)'));
  return token;
}

function formatSize(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function printModel(ctx: CommandContext, verb: string, m: InstalledModel & { sha256?: string }): void {
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, ...m }));
  else ctx.out(`${verb} ${m.kind} ${m.name} (${m.summary}, ${formatSize(m.bytes)}) at ${m.path}${m.sha256 ? `\nsha256 ${m.sha256}` : ''}`);
}

export const modelsCommand: Command = {
  name: 'models',
  positionals: 2,
  summary: 'list, import or download models (checkpoints, ControlNets, LoRAs, VAEs, tokenizers)',
  usage: `
usage: rerender models list [--models-dir <dir>] [--json]
       rerender models import <file-or-folder> [--name N] [--models-dir <dir>] [--json]
       rerender models download <url> [--sha256 H] [--name N] [--models-dir <dir>] [--json]
       rerender models download-tokenizer [--models-dir <dir>] [--json]

  list                 every model in the folder by kind, with what is wrong with unusable ones
  import               copy a .safetensors file, .onnx file, diffusers folder or tokenizer folder in
  download             fetch a file over https (plain http only with --sha256); redirects stay on
                       https; an interrupted download resumes when run again
  download-tokenizer   fetch the SD1.5 CLIP tokenizer (vocab.json, merges.txt) that single-file
                       checkpoints need
  --models-dir <dir>   the models folder (default: $RERENDER_MODELS, else ~/.rerender/models)
  --sha256 H           expected SHA-256 of the download (64 hex digits); a mismatch deletes the file
  --name N             file or folder name to install under`,
  async run(args, ctx) {
    const [action, target] = args.positional;
    const dir = resolveModelsDir(args.string('models-dir'));
    switch (action) {
      case 'list': {
        const models = await listModels(dir);
        if (ctx.json) { ctx.out(JSON.stringify({ ok: true, modelsDir: dir, models })); return; }
        if (models.length === 0) { ctx.out(`no models in ${dir}`); return; }
        for (const m of models) ctx.out(`${m.kind.padEnd(10)} ${m.name}  ${m.summary}, ${formatSize(m.bytes)}${m.problem ? `  — cannot be used: ${m.problem}` : ''}`);
        return;
      }
      case 'import': {
        if (!target) throw new UserError('missing the file or folder to import');
        const progress = cliProgress('importing');
        const m = await importModel(dir, target, { name: args.string('name'), onProgress: progress, cancel: interruptToken() });
        progress.done();
        printModel(ctx, 'imported', m);
        return;
      }
      case 'download': {
        if (!target) throw new UserError('missing the URL to download');
        const progress = cliProgress('downloading');
        const m = await downloadModel(dir, target, { sha256: args.string('sha256'), name: args.string('name'), onProgress: progress, cancel: interruptToken() });
        progress.done();
        printModel(ctx, 'downloaded', m);
        return;
      }
      case 'download-tokenizer': {
        const progress = cliProgress('downloading');
        const folder = await downloadTokenizer(dir, { onProgress: progress, cancel: interruptToken() });
        progress.done();
        if (ctx.json) ctx.out(JSON.stringify({ ok: true, tokenizer: folder }));
        else ctx.out(`tokenizer installed at ${folder}`);
        return;
      }
      default:
        throw new UserError(action ? `unknown action "${action}" (use list, import, download or download-tokenizer)` : 'missing the action: list, import, download or download-tokenizer');
    }
  },
};
