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

/**
 * Parses `--name value`, `--name=value`, `--flag` and positionals. `flags` lists options that take
 * no value; `multi` lists options that take several values up to the next `--option`.
 */
export function parseArgs(argv: string[], flags: readonly string[] = [], multi: readonly string[] = []): ParsedArgs {
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
