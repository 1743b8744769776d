// The shape of one CLI command and a small argument parser shared by all commands.
import { UserError } from '../../native-models/src/errors';

export interface CommandContext {
  /** Machine-readable output requested (--json). */
  json: boolean;
  /** Print a result line to stdout. */
  out(text: string): void;
  /** Print progress or diagnostics to stderr. */
  err(text: string): void;
}

export interface Command {
  name: string;
  summary: string;
  /** Full usage text printed by `rerender <name> --help`. */
  usage: string;
  /** Options that take no value. */
  flags?: readonly string[];
  /** Options that take several values (up to the next --option). */
  multi?: readonly string[];
  /**
   * How many positional arguments the command takes at most (a stray one is an error). Every option the
   * usage text names is accepted (those in `flags` take no value, those in `multi` several, the rest
   * one); any other option is an error, so the usage is the one list of a command's options.
   */
  positionals: number;
  /** Options accepted beyond those the usage names (`fresco` takes every option of `render`). */
  moreOptions?: readonly string[];
  run(args: ParsedArgs, ctx: CommandContext): Promise<number | void>;
}

export interface ParsedArgs {
  positional: string[];
  /** Options by name without dashes; repeated options collect every value in order. */
  options: Map<string, string[]>;
  /** Every option and positional in order, for commands whose options are order-sensitive. */
  sequence: Array<{ name?: string; values: string[] }>;
  flag(name: string): boolean;
  string(name: string): string | undefined;
  requireString(name: string): string;
  number(name: string): number | undefined;
  int(name: string): number | undefined;
}

/** Every option a command accepts: those its usage text names, its flags and multi options, and --json. */
export function acceptedOptions(command: Pick<Command, 'usage' | 'flags' | 'multi' | 'moreOptions'>): Set<string> {
  const named = [...command.usage.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]);
  return new Set([...named, ...(command.flags ?? []), ...(command.multi ?? []), ...(command.moreOptions ?? []), 'json']);
}

/** Edit distance, for "did you mean": at most a few letters apart. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** What a command accepts, for strict parsing: an unknown option or a stray positional is an error naming it. */
export interface Accepts { command: string; options: Set<string>; positionals: number }

function unknownOption(name: string, accepts: Accepts): UserError {
  const near = [...accepts.options].map((o) => ({ o, d: distance(name, o) })).filter((x) => x.d <= 2).sort((a, b) => a.d - b.d)[0];
  return new UserError(`unknown option --${name} for rerender ${accepts.command}${near ? ` (did you mean --${near.o}?)` : ''}; see rerender ${accepts.command} --help`);
}

/**
 * Parses `--name value`, `--name=value`, `--flag` and positionals. `flags` lists options that take
 * no value; `multi` lists options that take several values up to the next `--option`. With `accepts`,
 * an option the command does not take, or more positionals than it takes, is an error naming it.
 */
export function parseArgs(argv: string[], flags: readonly string[] = [], multi: readonly string[] = [], accepts?: Accepts): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  const sequence: ParsedArgs['sequence'] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--') && a.length > 2) {
      let name = a.slice(2);
      const values: string[] = [];
      const eq = name.indexOf('=');
      if (eq >= 0) {
        values.push(name.slice(eq + 1));
        name = name.slice(0, eq);
        if (accepts && !accepts.options.has(name)) throw unknownOption(name, accepts);
      } else if (accepts && !accepts.options.has(name)) {
        throw unknownOption(name, accepts);
      } else if (flags.includes(name)) {
        values.push('true');
      } else if (multi.includes(name)) {
        while (i + 1 < argv.length && !(argv[i + 1].startsWith('--') && argv[i + 1].length > 2)) values.push(argv[++i]);
      } else {
        if (i + 1 >= argv.length) throw new UserError(`option --${name} needs a value`);
        values.push(argv[++i]);
      }
      const list = options.get(name) ?? [];
      list.push(...values);
      options.set(name, list);
      sequence.push({ name, values });
    } else {
      if (accepts && positional.length >= accepts.positionals) {
        const takes = accepts.positionals === 0 ? 'takes no arguments besides its options' : `takes ${accepts.positionals} argument${accepts.positionals === 1 ? '' : 's'} besides its options`;
        throw new UserError(`unexpected argument "${a}": rerender ${accepts.command} ${takes}; see rerender ${accepts.command} --help`);
      }
      positional.push(a);
      sequence.push({ values: [a] });
    }
  }
  const string = (name: string) => {
    const v = options.get(name);
    return v && v.length ? v[v.length - 1] : undefined;
  };
  const number = (name: string) => {
    const s = string(name);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n)) throw new UserError(`--${name} expects a number, got "${s}"`);
    return n;
  };
  return {
    positional, options, sequence,
    flag: (name) => options.has(name) && string(name) !== 'false',
    string,
    requireString: (name) => {
      const s = string(name);
      if (s === undefined || s === '') throw new UserError(`missing required option --${name}`);
      return s;
    },
    number,
    int: (name) => {
      const n = number(name);
      if (n !== undefined && !Number.isInteger(n)) throw new UserError(`--${name} expects a whole number, got "${string(name)}"`);
      return n;
    },
  };
}
