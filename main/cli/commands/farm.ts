// `rerender farm worker` (take jobs from the farm's Redis until stopped) and `rerender farm status`.
import type { Command } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { checkFarmConnection, parseRedisUrl } from '../../farm/connection';
import { parsePathMap } from '../../farm/path-map';
import { parseKinds } from '../../farm/jobs';
import { startFarmWorker } from '../../farm/farm-worker';
import { farmStatus, formatFarmStatus } from '../../farm/farm-status';

export const farmCommand: Command = {
  name: 'farm',
  positionals: 1,
  summary: 'render farm on Redis: run a worker, or list workers, jobs and failures',
  usage: `
usage: rerender farm worker --redis URL [--kinds propagate,render] [--models-dir DIR] [--concurrency N] [--path-map FROM=TO ...] [--lock-seconds S]
       rerender farm status --redis URL [--json]

  --redis URL         redis://[:PASSWORD@]host:6379 or rediss://… (TLS; ?ca=FILE for a private CA);
                      a URL without a password takes $RERENDER_REDIS_PASSWORD (not shown by ps)
  --kinds K           job kinds this worker takes: propagate (the default), render, or both
                      (propagate,render). A worker renders keyframes only when an execution provider
                      starts here and its models folder holds a checkpoint; otherwise it says why and
                      takes propagation only. Render jobs run one at a time.
  --models-dir DIR    models folder for render jobs (default $RERENDER_MODELS or ~/.rerender/models);
                      the project's models are looked up here by their place in the models folder
  --concurrency N     propagation jobs this worker runs at once (default 1)
  --path-map FROM=TO  the submitters' folder FROM is TO on this machine (repeat for several); with a
                      map the worker takes only projects under a FROM folder
  --lock-seconds S    a job whose worker is silent this long goes to another worker (default 30)
Projects must be on storage every worker sees. Ctrl-C finishes the current jobs; Ctrl-C again hands
them back to the queue at once (finished frames are kept; another worker resumes).`,
  multi: ['path-map'],
  async run(args, ctx) {
    const sub = args.positional[0];
    const url = args.requireString('redis');
    const connection = parseRedisUrl(url, process.env);
    if (sub === 'status') {
      const s = await farmStatus(connection);
      if (ctx.json) ctx.out(JSON.stringify({ ok: true, ...s }));
      else for (const line of formatFarmStatus(s)) ctx.out(line);
      return;
    }
    if (sub !== 'worker') throw new UserError(sub ? `unknown farm command "${sub}" (worker or status)` : 'say what to do: rerender farm worker or rerender farm status');
    const concurrency = args.int('concurrency') ?? 1;
    if (concurrency < 1 || concurrency > 64) throw new UserError('--concurrency must be from 1 to 64');
    const lockSeconds = args.number('lock-seconds') ?? 30;
    if (!(lockSeconds >= 2 && lockSeconds <= 3600)) throw new UserError('--lock-seconds must be from 2 to 3600');
    const pathMap = parsePathMap(args.options.get('path-map') ?? []);
    const kinds = parseKinds(args.string('kinds'));
    const { warnings } = await checkFarmConnection(connection);
    for (const w of warnings) ctx.err(`warning: ${w}`);
    const worker = await startFarmWorker({
      connection, kinds, concurrency, pathMap, lockMs: lockSeconds * 1000, modelsDir: args.string('models-dir'),
      log: (line) => ctx.err(`[${new Date().toISOString()}] ${line}`),
    });
    if (worker.render && 'refused' in worker.render) ctx.err(`not taking render jobs: ${worker.render.refused}`);
    if (worker.render && 'provider' in worker.render) {
      const skipped = worker.render.skipped.map((x) => `${x.provider}: ${x.reason}`).join('; ');
      ctx.err(`render jobs run on ${worker.render.provider}${skipped ? ` (not used: ${skipped})` : ''}`);
    }
    ctx.err(`farm worker ${worker.id} on ${connection.safeUrl}: kinds ${worker.kinds.join(',')}, concurrency ${concurrency}${pathMap.length ? `, path map ${pathMap.map((m) => `${m.from}=${m.to}`).join(' ')}` : ''}`);
    let interrupts = 0;
    const onSignal = (signal: string) => {
      interrupts++;
      if (signal === 'SIGINT' && interrupts === 1) {
        ctx.err('finishing the current jobs (Ctrl-C again hands them back to the queue)');
        void worker.stop(false);
      } else {
        ctx.err('handing the current jobs back to the queue');
        void worker.stop(true);
      }
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    await worker.closed;
    ctx.err('farm worker stopped');
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, worker: worker.id }));
  },
};
