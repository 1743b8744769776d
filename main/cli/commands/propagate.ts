// `rerender propagate`: synthesise every frame between keyframes and blend the two directions.
import type { Command } from '../command';
import { cliProgress } from '../progress';
import { CancelToken, UserError } from '../../../native-models/src/errors';
import { readProjectFile } from '../../engine/project/project-file';
import { propagateProject } from '../../engine/propagation/propagate-project';
import { withProjectLock } from '../../engine/project/project-lock';

export const propagateCommand: Command = {
  name: 'propagate',
  summary: 'propagate the keyframes to every frame (resumable; progress on stderr)',
  usage: `
usage: rerender propagate <project-file> [--segment A-B] [--workers N] [--json]

  --segment A-B   only this segment (ids as \`rerender info\` lists them)
  --workers N     segments propagated at the same time (default: the project's setting)
Finished frames of unchanged segments are kept, so an interrupted run continues where it stopped.
Afterwards \`rerender export\` works without --allow-incomplete.`,
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file');
    const workers = args.int('workers');
    if (workers !== undefined && (workers < 1 || workers > 64)) throw new UserError('--workers must be from 1 to 64');
    const p = await readProjectFile(file);
    const cancel = new CancelToken();
    process.once('SIGINT', () => cancel.cancel('cancelled by Ctrl-C; finished frames are kept'));
    const progress = cliProgress('propagating');
    const r = await withProjectLock(file, () => propagateProject(file, p, { segmentId: args.string('segment'), workers, cancel, onProgress: progress }));
    progress.done();
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, ...r }));
    else ctx.out(`propagated ${r.segments} segments: ${r.framesWritten} frames written, ${r.framesKept} kept from an earlier run`);
  },
};
