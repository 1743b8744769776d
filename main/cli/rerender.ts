// `rerender` command-line entry: dispatches to one command, prints a one-line error on failure.
import { commands } from './commands';
import { acceptedOptions, parseArgs, type CommandContext } from './command';
import { UserError, isCancelled } from '../../native-models/src/errors';
import { asUserError } from '../engine/fs/disk-space';
import { version } from '../../package.json';

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'usage: rerender <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `rerender <command> --help` for the options of a command, `rerender --version` for the version.',
  ].join('\n');
}

let outputGuarded = false;

/**
 * A reader that goes away (`rerender info p.rerender | head -1`) is not an error: what it did not read
 * is dropped and the command ends as it would have, with its own exit code (a failure still fails),
 * instead of crashing on the next write. Work in progress (an export) is never abandoned for it.
 */
function ignoreClosedOutput(): void {
  if (outputGuarded) return;
  outputGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
}

export async function runCli(argv: string[]): Promise<number> {
  ignoreClosedOutput();
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`rerender ${version}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`rerender: unknown command "${name}" (see rerender --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.trim() + '\n');
    return 0;
  }
  const json = rest.includes('--json');
  const ctx: CommandContext = {
    json,
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
  };
  try {
    const accepts = { command: command.name, options: acceptedOptions(command), positionals: command.positionals };
    const args = parseArgs(rest.filter((a) => a !== '--json'), command.flags ?? [], command.multi ?? [], accepts);
    const code = await command.run(args, ctx);
    return typeof code === 'number' ? code : 0;
  } catch (caught) {
    const err = asUserError(caught);
    const message = err instanceof UserError || isCancelled(err) ? (err as Error).message : `internal error: ${(err as Error)?.stack ?? String(err)}`;
    if (json) process.stdout.write(JSON.stringify({ ok: false, error: message.split('\n')[0] }) + '\n');
    process.stderr.write(`rerender ${name}: ${message.split('\n')[0]}\n`);
    if (!(err instanceof UserError) && !isCancelled(err) && process.env.RERENDER_DEBUG) process.stderr.write(String((err as Error)?.stack) + '\n');
    if (err instanceof UserError && err.detail && process.env.RERENDER_DEBUG) process.stderr.write(`details: ${err.detail}\n`);
    return isCancelled(err) ? 130 : 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
