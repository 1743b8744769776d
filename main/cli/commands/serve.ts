// `rerender serve`: the editor in a browser on this machine (GPU boxes without a display, browser tests).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { createEditor } from '../../engine/editor/editor-api';
import { appRoot, rendererDir, workerModules } from '../../engine/editor/app-files';
import { defaultSettingsFile } from '../../engine/editor/app-settings';
import { startServer } from '../../server/serve';
import { bundledSampleDir, ensureSampleProject, userSampleDir } from '../../engine/project/sample-project';

export const serveCommand: Command = {
  name: 'serve',
  positionals: 1,
  flags: ['sample'],
  summary: 'open the editor in a browser on this machine (loopback only, per-session token)',
  usage: `
usage: rerender serve [<project-file> | --sample] [--port N] [--settings <file>] [--json]

  --port N            port on 127.0.0.1 (default: a free one)
  <project-file>      open this project at start (also --project <file>)
  --sample            open your copy of the sample project (~/Documents/Rerender/Sample project,
                      copied from the bundled one on first use; \`npm start\` uses this)
  --settings <file>   the editor's settings (recent projects, models folder);
                      default ~/.rerender/settings.json
Prints the address with its session token; open it in a browser. Runs until Ctrl-C.
To reach it from another machine, forward the port over SSH (ssh -L N:127.0.0.1:N host).`,
  async run(args, ctx) {
    const root = appRoot();
    const renderer = rendererDir(root);
    if (!fs.existsSync(path.join(renderer, 'index.html'))) throw new UserError('the editor is not built; run `npm run build` first', renderer);
    const port = args.int('port');
    if (port !== undefined && (port < 0 || port > 65535)) throw new UserError(`--port expects a port number 0-65535, got ${port}`);
    const editor = createEditor({
      platform: { mode: 'browser', version: JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version },
      settingsFile: path.resolve(args.string('settings') ?? defaultSettingsFile()),
      workerModules: workerModules(root),
    });
    if (args.positional[0] && args.string('project')) throw new UserError('give the project once: as the argument or as --project, not both');
    const named = args.positional[0] ?? args.string('project');
    if (named && args.flag('sample')) throw new UserError('give a project or --sample, not both');
    const project = args.flag('sample') ? await ensureSampleProject(bundledSampleDir(path.join(root, 'resources')), userSampleDir()) : named;
    if (project) await editor.handlers['project.open']({ file: path.resolve(project) });
    // Last line of defence: no client can crash the server (see ws-bridge.ts and serve.ts), but should
    // anything else escape, the open project's unsaved edits are written to its autosave before exit.
    const lastResort = (err: unknown) => {
      process.stderr.write(`rerender serve: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      void editor.session.autosaveNow().finally(() => process.exit(1));
    };
    process.on('uncaughtException', lastResort);
    process.on('unhandledRejection', lastResort);
    const server = await startServer({ editor, rendererDir: renderer, port });
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, url: server.url, port: server.port }));
    else ctx.out(`Rerender editor: ${server.url}\n(open this address in a browser on this machine; Ctrl-C stops the editor)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await editor.session.autosaveNow();
    await editor.dispose();
    await server.close();
    if (!ctx.json) ctx.err('editor stopped');
  },
};
