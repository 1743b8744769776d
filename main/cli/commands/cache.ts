// `rerender cache`: what a project's cache holds (outputs, flows, measurements), and collecting old entries over the limit.
import type { Command } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { readProjectFile } from '../../engine/project/project-file';
import { AppSettingsStore, defaultSettingsFile } from '../../engine/editor/app-settings';
import { CACHE_LIMIT_GB, collectCache, formatBytes, limitBytesOf } from '../../engine/project/cache-collector';
import { count } from '../../../preload/plural';

export const cacheCommand: Command = {
  name: 'cache',
  summary: "list a project's cache (outputs, flows, measurements) and collect old entries over the size limit",
  usage: `
usage: rerender cache <project-file> [--collect] [--limit-gb <n>] [--json]

Lists each entry the project's cache keeps under a key of its inputs (a segment's output in
clip.cache/output/<key>/, a set of flows in clip.cache/flow/<key>/, a flicker measurement in
clip.cache/metrics/warp-error/<key>.json) with its size, whether the current document uses it, and what
collection would remove: entries the document does not use now, least recently used first, until the
cache fits the limit. Without --collect nothing is removed.

  --collect         remove those entries
  --limit-gb <n>    the limit (${CACHE_LIMIT_GB.min}…${CACHE_LIMIT_GB.max} GB); default: the app settings' cacheLimitGb (${CACHE_LIMIT_GB.default})
  --json            one JSON object: { ok, dir, limitBytes, totalBytes, bytesAfter, entries, removed }
                    (entries: { kind, key, path, bytes, lastUsedMs, current, complete, writing }; removed: paths)
`,
  positionals: 1,
  flags: ['collect'],
  async run(args, ctx) {
    const file = args.positional[0];
    if (!file) throw new UserError('cache needs a project file');
    if (args.positional.length > 1) throw new UserError(`unexpected argument "${args.positional[1]}"`);
    const gb = args.number('limit-gb') ?? new AppSettingsStore(defaultSettingsFile()).get().cacheLimitGb;
    let limitBytes: number;
    try {
      limitBytes = limitBytesOf(gb);
    } catch (e) {
      throw new UserError(`--limit-gb: ${(e as Error).message}`);
    }
    const collect = args.flag('collect');
    const report = await collectCache(file, await readProjectFile(file), { limitBytes, dryRun: !collect });
    if (ctx.json) {
      ctx.out(JSON.stringify({ ok: true, ...report, removed: report.removed.map((e) => e.path) }));
      return;
    }
    const gone = new Set(report.removed.map((e) => e.path));
    for (const e of report.entries) {
      const state = e.current ? 'current' : e.writing ? 'being written' : gone.has(e.path) ? (collect ? 'removed' : 'would be removed') : 'old';
      ctx.out(`${e.kind.padEnd(7)}  ${e.key}  ${formatBytes(e.bytes).padStart(10)}  ${new Date(e.lastUsedMs).toISOString()}  ${state}`);
    }
    ctx.out(`${count(report.entries.length, 'entry', 'entries')}, ${formatBytes(report.totalBytes)} (limit ${formatBytes(limitBytes)}); ${collect ? 'removed' : 'would remove'} ${report.removed.length}, ${formatBytes(report.totalBytes - report.bytesAfter)}`);
  },
};
