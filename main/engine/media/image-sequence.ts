// Image sequences as sources: a folder of PNG or JPEG frames at a rate the user states. Checked before
// anything is decoded (regular files of one kind and one size, one numbering, no missing numbers unless
// allowed) and fingerprinted by its files' names and sizes, so a folder that changes later is noticed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { orderedFrames } from './frames-folder';
import { MAX_FRAMES, MAX_SIDE, MIN_SIDE } from './probe';
import { describeRuns } from '../frames';
import { UserError } from '../../../native-models/src/errors';

export type SequenceKind = 'PNG' | 'JPEG';

/** A folder's frames as listed (names, numbers, sizes), before any image is read. */
export interface SequenceListing {
  dir: string;
  kind: SequenceKind;
  /** Frame files in frame order (absolute paths), with their numbers and byte sizes. */
  files: string[];
  numbers: number[];
  bytes: number[];
  /** Numbers missing between the first frame's and the last's. */
  missing: number[];
  /** The folder's other entries (neither PNG nor JPEG, not hidden), for messages about missing frames. */
  others: string[];
  /** SHA-256 of every frame's name and size in order (see ImageSequence in the project schema). */
  fingerprint: string;
  totalBytes: number;
  /** The newest frame's modification time (ms). */
  newestMs: number;
}

export interface SequenceInfo extends SequenceListing { width: number; height: number }

const KIND: Record<string, SequenceKind> = { '.png': 'PNG', '.jpg': 'JPEG', '.jpeg': 'JPEG' };

/** "shot_v2_0012.png" → stem "shot_v2_", number 12, tail "" (the last run of digits is the frame number). */
function frameNumber(name: string): { pattern: string; number: number } | undefined {
  const ext = path.extname(name);
  const m = /^(.*?)(\d+)(\D*)$/.exec(name.slice(0, name.length - ext.length));
  if (!m) return undefined;
  return { pattern: `${m[1]}#${m[3]}${KIND[ext.toLowerCase()]}`, number: Number(m[2]) };
}

/** "frame number 3 is" / "frame numbers 4-5, 8 are" (missing …). */
function missingNumbers(missing: number[]): string {
  return missing.length === 1 ? `frame number ${missing[0]} is` : `frame numbers ${describeRuns(missing)} are`;
}

function sample(names: string[]): string {
  return names.slice(0, 3).join(', ') + (names.length > 3 ? ', …' : '');
}

/** Lists a folder as an image sequence: cheap (names and sizes only), so it also serves the source checks. */
export function listImageSequence(dir: string): SequenceListing {
  const folder = path.resolve(dir);
  const { files: all, others } = orderedFrames(folder);
  if (all.length === 0) throw new UserError(`the folder holds no PNG or JPEG frames${others.length ? ` (only ${sample(others)})` : ''}; an image sequence is a folder of numbered .png or .jpg files`, folder);
  const names = all.map((f) => path.basename(f as string));
  const kinds = new Set(names.map((n) => KIND[path.extname(n).toLowerCase()]));
  if (kinds.size > 1) {
    const counts = (k: SequenceKind) => names.filter((n) => KIND[path.extname(n).toLowerCase()] === k);
    const [png, jpeg] = [counts('PNG'), counts('JPEG')];
    const fewer = png.length < jpeg.length ? png : jpeg;
    throw new UserError(`the folder holds ${png.length} PNG and ${jpeg.length} JPEG files (${sample(fewer)}); the frames of a sequence are all PNG or all JPEG: move the others out`, folder);
  }
  const parsed = names.map((n) => ({ name: n, ...frameNumber(n) }));
  const unnumbered = parsed.filter((p) => p.pattern === undefined).map((p) => p.name);
  if (unnumbered.length) throw new UserError(`${sample(unnumbered)} ${unnumbered.length > 1 ? 'have' : 'has'} no frame number in the name; the frames of a sequence are numbered (0001.png, 0002.png, …): move the others out`, folder);
  const byPattern = new Map<string, string[]>();
  for (const p of parsed) byPattern.set(p.pattern!, [...(byPattern.get(p.pattern!) ?? []), p.name]);
  if (byPattern.size > 1) {
    const groups = [...byPattern.values()].sort((a, b) => b.length - a.length);
    throw new UserError(`the folder holds more than one sequence: ${groups[0].length} frames named like ${groups[0][0]} and ${groups.slice(1).reduce((n, g) => n + g.length, 0)} others (${sample(groups.slice(1).flat())}); move the others out`, folder);
  }
  const order = parsed.map((p, i) => ({ ...p, file: all[i] as string })).sort((a, b) => a.number! - b.number!);
  for (let i = 1; i < order.length; i++) {
    if (order[i].number === order[i - 1].number) throw new UserError(`${order[i - 1].name} and ${order[i].name} have the same frame number (${order[i].number}); keep one of them`, folder);
  }
  if (order.length > MAX_FRAMES) throw new UserError(`the folder holds ${order.length} frames; a project holds at most ${MAX_FRAMES} (split the sequence first)`, folder);
  const bytes: number[] = [];
  let newestMs = 0;
  const hash = crypto.createHash('sha256');
  for (const f of order) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(f.file);
    } catch (err) {
      throw new UserError(`cannot read the frame ${f.name} (${(err as NodeJS.ErrnoException).code})`, f.file);
    }
    if (!stat.isFile()) throw new UserError(`the frame ${f.name} is not a regular file (${stat.isDirectory() ? 'a folder' : 'a special file'}); move it out of the folder`, f.file);
    if (stat.size === 0) throw new UserError(`the frame ${f.name} is empty (0 bytes); render or copy it again`, f.file);
    bytes.push(stat.size);
    newestMs = Math.max(newestMs, stat.mtimeMs);
    hash.update(`${f.name}\t${stat.size}\n`);
  }
  const numbers = order.map((f) => f.number!);
  const missing: number[] = [];
  for (let i = 1; i < numbers.length; i++) for (let n = numbers[i - 1] + 1; n < numbers[i]; n++) missing.push(n);
  return {
    dir: folder, kind: [...kinds][0], files: order.map((f) => f.file), numbers, bytes, missing, others,
    fingerprint: hash.digest('hex'), totalBytes: bytes.reduce((a, b) => a + b, 0), newestMs: Math.floor(newestMs),
  };
}

/** "240 PNG frames, 0001.png to 0240.png" (and the missing numbers), as the editor and `info` show a sequence. */
export function describeSequence(s: Pick<SequenceListing, 'kind' | 'files' | 'missing'>): string {
  const first = path.basename(s.files[0]);
  const last = path.basename(s.files[s.files.length - 1]);
  const range = s.files.length > 1 ? `, ${first} to ${last}` : `, ${first}`;
  return `${s.files.length} ${s.kind} frame${s.files.length > 1 ? 's' : ''}${range}${s.missing.length ? `; ${missingNumbers(s.missing)} missing` : ''}`;
}

/** Runs `fn` over `items` with at most `limit` at once, keeping the order of results. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => { while (next < items.length) { const i = next++; results[i] = await fn(items[i], i); } };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Checks a folder as a source: listed as above, no missing numbers (unless `allowGaps`: the frames are
 * then taken in order, the gaps closed up), and every frame a PNG or JPEG of the first frame's size.
 */
export async function probeImageSequence(dir: string, opts: { allowGaps?: boolean } = {}): Promise<SequenceInfo> {
  const listing = listImageSequence(dir);
  const first = path.basename(listing.files[0]);
  const last = path.basename(listing.files[listing.files.length - 1]);
  if (listing.missing.length && !opts.allowGaps) {
    const others = listing.others.length ? ` (the folder also holds ${sample(listing.others)}, which ${listing.others.length > 1 ? 'are' : 'is'} not PNG or JPEG)` : '';
    throw new UserError(`${missingNumbers(listing.missing)} missing between ${first} and ${last}${others}; add the missing frames or renumber them, or keep the frames in order without the gaps (--allow-gaps)`, listing.dir);
  }
  const sizes = await mapLimited(listing.files, 8, async (file) => {
    const meta = await sharp(file).metadata().catch((err: Error) => { throw new UserError(`cannot read the frame ${path.basename(file)} (${err.message}); is it a PNG or JPEG image?`, file); });
    const kind = meta.format === 'png' ? 'PNG' : meta.format === 'jpeg' ? 'JPEG' : meta.format;
    if (kind !== listing.kind) throw new UserError(`the frame ${path.basename(file)} holds a ${String(kind).toUpperCase()} image, not ${listing.kind} as its name says; convert or rename it`, file);
    return { width: meta.width ?? 0, height: meta.height ?? 0 };
  });
  const { width, height } = sizes[0];
  if (Math.min(width, height) < MIN_SIDE) throw new UserError(`the frames are too small (${width}×${height}); Rerender needs at least ${MIN_SIDE}×${MIN_SIDE} pixels`, listing.files[0]);
  if (Math.max(width, height) > MAX_SIDE) throw new UserError(`the frames are too large (${width}×${height}); the largest supported frame is ${MAX_SIDE} pixels per side`, listing.files[0]);
  const odd = sizes.findIndex((s) => s.width !== width || s.height !== height);
  if (odd >= 0) throw new UserError(`the frame ${path.basename(listing.files[odd])} is ${sizes[odd].width}×${sizes[odd].height} but ${first} is ${width}×${height}; every frame of a sequence has the same size`, listing.files[odd]);
  return { ...listing, width, height };
}
