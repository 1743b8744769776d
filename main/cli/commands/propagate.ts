// `rerender propagate`: synthesise every frame between keyframes and blend the two directions.
import type { Command } from '../command';
import { cliProgress } from '../progress';
import { CancelToken, CancelledError, UserError, isCancelled } from '../../../native-models/src/errors';
import { propagateProject } from '../../engine/propagation/propagate-project';
import { count } from '../../../preload/plural';
import { ProjectStore } from '../../engine/project/project-store';
import { SubmissionCancelled, propagateOnFarm, sharedNote } from '../../farm/submit';
import { parseRedisUrl } from '../../farm/connection';
import { AppSettingsStore, defaultSettingsFile } from '../../engine/editor/app-settings';
import { collectCache, limitBytesOf } from '../../engine/project/cache-collector';

export const propagateCommand: Command = {
  name: 'propagate',
  positionals: 1,
  summary: 'propagate the keyframes to every frame (resumable; progress on stderr)',
  usage: `
usage: rerender propagate <project-file> [--segment A-B] [--workers N] [--farm URL] [--json]

  --segment A-B   only this segment (ids as \`rerender info\` lists them)
  --workers N     segments propagated at the same time (default: the project's setting)
  --farm URL      propagate on the render farm at this Redis (redis://[:PASSWORD@]host:6379); see
                  \`rerender farm --help\`. The project must be on storage the workers see.
Finished frames of unchanged segments are kept, so an interrupted run continues where it stopped.
Afterwards every frame has output, so \`rerender export\` needs no source frames in place of missing ones.
Once the run is over, old outputs over the app settings' cacheLimitGb are collected (\`rerender cache\`).`,
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('missing the project file');
    const workers = args.int('workers');
    if (workers !== undefined && (workers < 1 || workers > 64)) throw new UserError('--workers must be from 1 to 64');
    const cancel = new CancelToken();
    process.once('SIGINT', () => cancel.cancel(INTERRUPTED));
    try {
      await propagate(file, args, ctx, cancel, workers);
    } catch (err) {
      // However deep the cancellation was noticed (a worker says only "cancelled"), Ctrl-C is told what it
      // kept, in one wording for a local run and the farm (which adds the jobs that went on for another submission).
      if (isCancelled(err) && cancel.cancelled) throw new CancelledError(`${INTERRUPTED}${err instanceof SubmissionCancelled ? sharedNote(err.shared) : ''}`);
      throw err;
    }
  },
};

/** What Ctrl-C of a propagation says: nothing finished is lost, and the same command picks up from there. */
const INTERRUPTED = 'cancelled by Ctrl-C: the finished frames are kept, and running the same command again resumes from them';

async function propagate(file: string, args: Parameters<Command['run']>[0], ctx: Parameters<Command['run']>[1], cancel: CancelToken, workers: number | undefined): Promise<void> {
  const progress = cliProgress('propagating');
  const farm = args.string('farm');
  if (farm !== undefined) {
    if (args.string('segment') || workers !== undefined) throw new UserError('--farm propagates every segment on the farm\'s workers: leave out --segment and --workers');
    const r = await propagateOnFarm(file, { connection: parseRedisUrl(farm, process.env), cancel, onProgress: progress, onWarning: (w) => ctx.err(`warning: ${w}`) });
    progress.done();
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, ...r }));
    else ctx.out(`propagated ${count(r.segments, 'segment')} on the farm (${count(r.workers.length, 'worker')}, ${r.segmentsShared} already done or shared): ${count(r.framesWritten, 'frame')} written`);
    if (r.skipped && !ctx.json) ctx.out(r.skipped.note);
    return;
  }
  // Read through the store, under its lock: propagation only reads the document, but the collection
  // afterwards must know every current key, so no editor may hold another version of it meanwhile.
  const r = await ProjectStore.with(file, async (store) => {
    const p = store.project;
    const done = await propagateProject(file, p, { segmentId: args.string('segment'), workers, cancel, onProgress: progress });
    // Collected once the run is over, never during it; the current segments' outputs always stay.
    const limitGb = new AppSettingsStore(defaultSettingsFile()).get().cacheLimitGb;
    await collectCache(file, p, { limitBytes: limitBytesOf(limitGb) }); // propagation never changes the project
    return done;
  }, { app: 'rerender propagate' });
  progress.done();
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, ...r }));
  else ctx.out(`propagated ${count(r.segments, 'segment')}: ${count(r.framesWritten, 'frame')} written, ${r.framesKept} kept from an earlier run`);
  if (r.skipped && !ctx.json) ctx.out(r.skipped.note);
}
