// CLIP byte-level BPE tokenizer (vocab.json + merges.txt as in diffusers folders) with SD1.5's 77-token
// convention, and where to find those files for a model that carries none.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors';

/** A prompt ready for the text encoder. */
export interface TokenizedPrompt {
  /** BOS, up to maxLength-2 BPE ids, EOS, then padding: always maxLength ids. */
  inputIds: number[];
  /** Every BPE id of the prompt, before truncation. */
  bpeIds: number[];
  truncated: boolean;
  /** Shown to the user when the prompt was cut, naming the words that were dropped. */
  warning?: string;
}

const BOS_TOKEN = '<|startoftext|>';
const EOS_TOKEN = '<|endoftext|>';
/** CLIP's split: special tokens, English contractions, letter runs, single digits, other symbol runs. */
const SPLIT = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/**
 * The reversible byte -> printable character table of byte-level BPE: printable Latin-1 bytes map to
 * themselves, the rest to code points from 256 up, so every byte sequence is a string of visible chars.
 */
function byteToChar(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCodePoint(printable ? b : next++);
  }
  return table;
}

export class ClipTokenizer {
  private readonly byteChars = byteToChar();
  private readonly charBytes = new Map(this.byteChars.map((c, b) => [c, b]));
  private readonly cache = new Map<string, number[]>();
  private readonly idToToken: string[] = [];
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;

  private constructor(readonly dir: string, private readonly vocab: Map<string, number>, private readonly ranks: Map<string, number>) {
    for (const [t, id] of vocab) this.idToToken[id] = t;
    const id = (t: string) => {
      const v = vocab.get(t);
      if (v === undefined) throw new UserError(`vocab.json has no "${t}" token; is this a CLIP tokenizer?`, dir);
      return v;
    };
    this.bos = id(BOS_TOKEN);
    this.eos = id(EOS_TOKEN);
    this.pad = this.eos; // SD1.5 pads with the end token
  }

  /** Reads `vocab.json` and `merges.txt` from a folder (a diffusers `tokenizer/`). */
  static async load(dir: string): Promise<ClipTokenizer> {
    const read = async (name: string) => {
      try { return await fs.promises.readFile(path.join(dir, name), 'utf8'); } catch {
        throw new UserError(`has no ${name}; a CLIP tokenizer folder holds vocab.json and merges.txt`, dir);
      }
    };
    const [vocabText, mergesText] = await Promise.all([read('vocab.json'), read('merges.txt')]);
    let parsed: unknown;
    try { parsed = JSON.parse(vocabText); } catch { throw new UserError('is not valid JSON', path.join(dir, 'vocab.json')); }
    if (typeof parsed !== 'object' || parsed === null) throw new UserError('is not a token -> id map', path.join(dir, 'vocab.json'));
    const vocab = new Map<string, number>();
    for (const [t, id] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof id !== 'number' || !Number.isInteger(id)) throw new UserError(`gives token "${t}" a non-integer id`, path.join(dir, 'vocab.json'));
      vocab.set(t, id);
    }
    const ranks = new Map<string, number>();
    for (const line of mergesText.split('\n')) {
      if (line.startsWith('#version') || !line.trim()) continue;
      const parts = line.trimEnd().split(' ');
      if (parts.length !== 2) throw new UserError(`has a malformed line "${line.slice(0, 40)}"`, path.join(dir, 'merges.txt'));
      const pair = `${parts[0]} ${parts[1]}`;
      if (!ranks.has(pair)) ranks.set(pair, ranks.size);
    }
    return new ClipTokenizer(dir, vocab, ranks);
  }

  /**
   * Text as CLIP's reference tokenizer cleans it (ftfy, HTML unescaping, whitespace, lower case). The
   * ftfy fixes that matter for typed or pasted prompts are done here: curly quotes, Latin ligatures,
   * full-width forms, control characters; then NFC, whitespace runs to one space, trim, lower case.
   */
  static normalise(text: string): string {
    return unescapeHtml(unescapeHtml(text))
      .replace(/[\u2018\u2019\u201a\u201b]/g, "'")
      .replace(/[\u201c\u201d\u201e\u201f]/g, '"')
      .replace(/[\u0132\u0133\u0149\u01c4-\u01cc\ufb00-\ufb06\u3000\uff01-\uffee]/g, (c) => c.normalize('NFKC'))
      .replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/g, '')
      .normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
  }

  /** BPE ids of a prompt, without BOS/EOS and without truncation. */
  encode(prompt: string): number[] {
    const ids: number[] = [];
    for (const piece of ClipTokenizer.normalise(prompt).match(SPLIT) ?? []) ids.push(...this.bpe(piece));
    return ids;
  }

  /** SD1.5 input ids: [BOS, first maxLength-2 BPE ids, EOS], padded with the pad id to maxLength. */
  tokenize(prompt: string, maxLength = 77): TokenizedPrompt {
    const bpeIds = this.encode(prompt);
    const room = maxLength - 2;
    const kept = bpeIds.slice(0, room);
    const inputIds = [this.bos, ...kept, this.eos];
    while (inputIds.length < maxLength) inputIds.push(this.pad);
    const truncated = bpeIds.length > room;
    const warning = truncated
      ? `The prompt is ${bpeIds.length} tokens long; only the first ${room} are used. Dropped: "${this.decode(bpeIds.slice(room))}"`
      : undefined;
    return { inputIds, bpeIds, truncated, warning };
  }

  /** Text of BPE ids (end-of-word markers become spaces). */
  decode(ids: number[]): string {
    const chars = ids.map((id) => this.idToToken[id] ?? '').join('').replace(/<\/w>/g, ' ');
    const bytes = [...chars].map((c) => (c === ' ' ? 0x20 : this.charBytes.get(c) ?? 0x3f)); // a literal space is the word end
    return Buffer.from(bytes).toString('utf8').trim();
  }

  private bpe(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    let ids: number[];
    if (piece === BOS_TOKEN || piece === EOS_TOKEN) {
      ids = [this.vocab.get(piece)!];
    } else {
      const chars = [...Buffer.from(piece, 'utf8')].map((b) => this.byteChars[b]);
      let word = chars.map((c, i) => (i === chars.length - 1 ? c + '</w>' : c));
      // Merge the best-ranked adjacent pair everywhere it occurs until no known pair is left.
      while (word.length > 1) {
        let best = -1;
        let bestRank = Infinity;
        for (let i = 0; i < word.length - 1; i++) {
          const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
          if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
        }
        if (best < 0) break;
        const [a, b] = [word[best], word[best + 1]];
        const merged: string[] = [];
        for (let i = 0; i < word.length; i++) {
          if (i < word.length - 1 && word[i] === a && word[i + 1] === b) { merged.push(a + b); i++; } else merged.push(word[i]);
        }
        word = merged;
      }
      ids = word.map((t) => {
        const id = this.vocab.get(t);
        if (id === undefined) throw new UserError(`vocab.json lacks the BPE token "${t}"; vocab.json and merges.txt do not belong together`, this.dir);
        return id;
      });
    }
    if (this.cache.size < 100_000) this.cache.set(piece, ids);
    return ids;
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** HTML character references as Python's html.unescape reads the common ones (numeric and basic named). */
function unescapeHtml(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '\ufffd';
  });
}

/** True when the folder holds a CLIP tokenizer (vocab.json + merges.txt). */
export function isTokenizerFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'vocab.json')) && fs.existsSync(path.join(dir, 'merges.txt'));
}

/** A tokenizer folder anywhere in the models folder (e.g. some diffusers folder's `tokenizer/`), or undefined. */
export async function findTokenizer(modelsDir: string, maxDepth = 4): Promise<string | undefined> {
  const visit = async (dir: string, depth: number): Promise<string | undefined> => {
    if (isTokenizerFolder(dir)) return dir;
    if (depth >= maxDepth) return undefined;
    let entries: fs.Dirent[];
    try { entries = await fs.promises.readdir(dir, { withFileTypes: true }); } catch { return undefined; }
    // Prefer folders named `tokenizer`, then the rest in name order, so the answer is stable.
    const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name)
      .sort((a, b) => Number(b === 'tokenizer') - Number(a === 'tokenizer') || a.localeCompare(b));
    for (const name of dirs) {
      const found = await visit(path.join(dir, name), depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(modelsDir, 0);
}

/**
 * The tokenizer to use for a model: an explicit folder (`--tokenizer`), the model's own diffusers
 * `tokenizer/`, or any found in the models folder; otherwise a message saying what to do.
 */
export async function resolveTokenizer(opts: { override?: string; model?: string; modelsDir?: string }): Promise<string> {
  if (opts.override) {
    if (!isTokenizerFolder(opts.override)) throw new UserError('is not a tokenizer folder (needs vocab.json and merges.txt)', opts.override);
    return opts.override;
  }
  if (opts.model) {
    const own = path.join(opts.model, 'tokenizer');
    if (isTokenizerFolder(own)) return own;
  }
  const found = opts.modelsDir ? await findTokenizer(opts.modelsDir) : undefined;
  if (found) return found;
  // The editor words the fix its own way (editor-jobs.ts describeFailure): it keeps the text up to the first '. '.
  const folder = opts.model !== undefined && fs.statSync(opts.model, { throwIfNoEntry: false })?.isDirectory();
  throw new UserError(
    `no CLIP tokenizer found: ${folder ? `the model folder ${path.basename(opts.model!)} has no tokenizer/ and the models folder holds none` : 'single-file checkpoints carry none'}. `
    + 'Put any SD1.5 diffusers folder (with tokenizer/) in the models folder, '
    + 'run `rerender models download-tokenizer` to fetch the SD1.5 tokenizer files, or pass --tokenizer <folder with vocab.json and merges.txt>',
    opts.modelsDir ?? opts.model,
  );
}
