// The user's models folder: where it is, what is installed in it (by kind), importing a file or folder
// into it (atomic copy) and downloading into it. Nothing is downloaded unless the user asks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError, type CancelToken, type ProgressFn } from './errors';
import { detectModelFile, type ModelDescription, type ModelKind } from './weights/detect-model';
import { ClipTokenizer, isTokenizerFolder } from './tokenizer';
import { onnxFileProblem } from './onnx/model-file';
import { checkSha256, downloadFile, fileNameFromUrl } from './model-download';

/** A model path as a project stores it: absolute, or inside the models folder. */
export function projectModelPath(modelsDir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(modelsDir, p);
}

const CHOSEN_KINDS: Record<'checkpoint' | 'controlnet' | 'vae', { kinds: ModelKind[]; what: string }> = {
  checkpoint: { kinds: ['sd15-checkpoint', 'diffusers-folder'], what: 'a Stable Diffusion checkpoint' },
  controlnet: { kinds: ['controlnet', 'diffusers-folder'], what: 'a ControlNet' },
  vae: { kinds: ['vae', 'sd15-checkpoint', 'diffusers-folder'], what: 'a VAE' },
};

/**
 * Models newly chosen for a project are checked when chosen, before the project keeps them (a render
 * request on the command line, the editor's "Change models"): the same detection as import and render
 * (weightsProblem: SDXL, SD2, inpainting; pickles; the wrong kind of file), one line naming the file.
 */
export async function checkChosenModels(models: Partial<Record<'checkpoint' | 'controlnet' | 'vae', string | null>> | undefined, modelsDir: string): Promise<void> {
  for (const role of ['checkpoint', 'controlnet', 'vae'] as const) {
    const chosen = models?.[role];
    if (chosen) await checkModelFor(role, projectModelPath(modelsDir, chosen));
  }
}

/** Refuses a model file or folder that cannot serve as `role` (its problem, or another kind), in one line naming it. Render runs it too. */
export async function checkModelFor(role: 'checkpoint' | 'controlnet' | 'vae', file: string): Promise<void> {
  const d = await detectModelFile(file);
  if (d.problem) throw new UserError(`cannot be used as the ${role}: ${d.problem}`, file, d.detail);
  const { kinds, what } = CHOSEN_KINDS[role];
  if (!kinds.includes(d.kind) || (d.kind === 'diffusers-folder' && role !== 'checkpoint' && !d.components.includes(role))) {
    throw new UserError(`is not ${what} (it holds: ${d.summary})`, file);
  }
}

export type ModelAvailability = { available: true } | { available: false; reason: string };

/**
 * Whether an optional ONNX model the user chose can be used, and if not, the reason the UI shows:
 * `none` when nothing is chosen, else the file (`what` names it) must exist and be .onnx.
 */
export function onnxModelAvailability(file: string | null | undefined, what: string, none: string): ModelAvailability {
  if (!file) return { available: false, reason: none };
  if (!fs.existsSync(file)) return { available: false, reason: `the ${what} ${file} does not exist` };
  if (!file.toLowerCase().endsWith('.onnx')) return { available: false, reason: `the ${what} ${file} is not an .onnx file` };
  const problem = onnxFileProblem(file);
  return problem ? { available: false, reason: `the ${what} ${file} is ${problem}` } : { available: true };
}

export type InstalledKind = 'checkpoint' | 'diffusers' | 'controlnet' | 'lora' | 'vae' | 'tokenizer' | 'onnx' | 'unknown';

export interface InstalledModel {
  /** File or folder name, as the user sees it in lists. */
  name: string;
  kind: InstalledKind;
  path: string;
  bytes: number;
  summary: string;
  /** Why it cannot be used (another model family, pickle format, damaged), when that is the case. */
  problem?: string;
  /** The problem's figures for the log, not for the line the user reads. */
  detail?: string;
}

/** Subfolder each kind is imported into; listing finds models anywhere in the folder regardless. */
export const KIND_FOLDERS: Record<InstalledKind, string> = {
  checkpoint: 'checkpoints', diffusers: 'diffusers', controlnet: 'controlnets', lora: 'loras',
  vae: 'vaes', tokenizer: 'tokenizers', onnx: 'onnx', unknown: 'other',
};

/** Folder names inside the models folder that hold our own files, never models. */
const INTERNAL = new Set(['compiled', '.cache', 'downloads']);

/** Where compiled ONNX graphs of this models folder are cached (rebuildable; never listed as models). */
export function compiledGraphsDir(modelsDir: string): string {
  return path.join(modelsDir, 'compiled');
}

/**
 * The models folder: an explicit choice (CLI flag or app setting), else $RERENDER_MODELS, else
 * ~/.rerender/models (the app's default setting).
 */
export function resolveModelsDir(choice?: string, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  return path.resolve(choice || env.RERENDER_MODELS || path.join(home, '.rerender', 'models'));
}

function kindOf(d: ModelDescription): InstalledKind {
  switch (d.kind) {
    case 'sd15-checkpoint': return 'checkpoint';
    case 'diffusers-folder': return 'diffusers';
    case 'controlnet': return 'controlnet';
    case 'lora': return 'lora';
    case 'vae': return 'vae';
    default: return 'unknown';
  }
}

async function sizeOf(p: string): Promise<number> {
  const st = await fs.promises.stat(p);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of await fs.promises.readdir(p)) total += await sizeOf(path.join(p, e));
  return total;
}

/** What one file or folder is, as a list entry; undefined for things that are not models. */
export async function describeInstalled(p: string): Promise<InstalledModel | undefined> {
  const name = path.basename(p);
  const st = await fs.promises.stat(p);
  if (st.isDirectory()) {
    if (isTokenizerFolder(p)) return { name, kind: 'tokenizer', path: p, bytes: await sizeOf(p), summary: 'CLIP tokenizer' };
    const isModelFolder = fs.existsSync(path.join(p, 'model_index.json')) || fs.existsSync(path.join(p, 'config.json'));
    if (!isModelFolder) return undefined;
  } else if (/\.onnx$/i.test(name)) {
    const problem = onnxFileProblem(p);
    return { name, kind: 'onnx', path: p, bytes: st.size, summary: problem ? 'not ONNX' : 'ONNX model', ...(problem ? { problem } : {}) };
  } else if (!/\.(safetensors|ckpt|pt|pth|bin)$/i.test(name)) {
    return undefined;
  }
  const d = await detectModelFile(p);
  return { name, kind: kindOf(d), path: p, bytes: await sizeOf(p), summary: d.summary, ...(d.problem ? { problem: d.problem } : {}), ...(d.detail ? { detail: d.detail } : {}) };
}

/** Every model in the folder (any depth up to 3; model folders are entries, not searched inside). */
export async function listModels(modelsDir: string): Promise<InstalledModel[]> {
  const found: InstalledModel[] = [];
  const visit = async (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try { entries = await fs.promises.readdir(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.') || e.name.endsWith('.partial') || (depth === 0 && INTERNAL.has(e.name))) continue;
      const p = path.join(dir, e.name);
      const model = await describeInstalled(p);
      if (model) found.push(model);
      else if (e.isDirectory() && depth < 3) await visit(p, depth + 1);
    }
  };
  if (!fs.existsSync(modelsDir)) return [];
  await visit(modelsDir, 0);
  return found;
}

/**
 * A model named as `models list` prints it (its file or folder name) or as the editor shows it (its path
 * inside the models folder, e.g. diffusers/foo): its path, or undefined when the folder has none of that name.
 */
export async function findInstalledModel(modelsDir: string, name: string): Promise<string | undefined> {
  const inside = path.resolve(modelsDir, name);
  if (!path.relative(modelsDir, inside).startsWith('..') && fs.existsSync(inside)) return inside;
  const named = (await listModels(modelsDir)).filter((m) => m.name === name);
  if (named.length > 1) throw new UserError(`several models are named "${name}" (${named.map((m) => path.relative(modelsDir, m.path)).join(', ')}); give one of these paths`, modelsDir);
  return named[0]?.path;
}

/** Bytes copied between progress reports and cancel checks: a 4 GB checkpoint reports about 4,000 times. */
const COPY_CHUNK = 1 << 20;

/** Copies a file in chunks, reporting each and stopping between chunks when cancelled. */
async function copyFileInChunks(from: string, to: string, onBytes: (n: number) => void, cancel?: CancelToken): Promise<void> {
  const src = await fs.promises.open(from, 'r');
  try {
    const dst = await fs.promises.open(to, 'w');
    try {
      const buf = Buffer.allocUnsafe(COPY_CHUNK);
      for (;;) {
        cancel?.throwIfCancelled();
        const { bytesRead } = await src.read(buf, 0, COPY_CHUNK, null);
        if (bytesRead === 0) break;
        await dst.write(buf, 0, bytesRead);
        onBytes(bytesRead);
      }
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

async function copyTree(from: string, to: string, onBytes: (n: number) => void, cancel?: CancelToken): Promise<void> {
  const st = await fs.promises.stat(from);
  cancel?.throwIfCancelled();
  if (st.isDirectory()) {
    await fs.promises.mkdir(to, { recursive: true });
    for (const e of await fs.promises.readdir(from)) await copyTree(path.join(from, e), path.join(to, e), onBytes, cancel);
  } else {
    await copyFileInChunks(from, to, onBytes, cancel);
  }
}

/** Where a model of this kind and name goes; refuses to overwrite something already installed. */
function destinationFor(modelsDir: string, kind: InstalledKind, name: string): string {
  const safe = path.basename(name);
  if (!safe || safe === '.' || safe === '..') throw new UserError(`"${name}" is not a usable model name`);
  const dest = path.join(modelsDir, KIND_FOLDERS[kind], safe);
  if (fs.existsSync(dest)) throw new UserError('is already installed; remove it first or import under another --name', dest);
  return dest;
}

export interface ImportOptions { name?: string; onProgress?: ProgressFn; cancel?: CancelToken }

/** Copies a model file or folder into the models folder (temp copy, then rename), sorted by kind. */
export async function importModel(modelsDir: string, source: string, opts: ImportOptions = {}): Promise<InstalledModel> {
  if (!fs.existsSync(source)) throw new UserError('file not found', source);
  const model = await describeInstalled(path.resolve(source));
  if (!model) throw new UserError('is not a model file or folder (.safetensors, .onnx, diffusers folder, tokenizer folder)', source);
  // The problem may name the file itself; the error names it once.
  if (model.problem) throw new UserError(`cannot be used: ${model.problem.split(`${path.resolve(source)}: `).join('')}`, source, model.detail);
  const dest = destinationFor(modelsDir, model.kind, opts.name ?? model.name);
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const temp = path.join(path.dirname(dest), `.importing-${path.basename(dest)}-${process.pid}`);
  let copied = 0;
  try {
    const total = `${(model.bytes / 1e6).toFixed(1)} MB`;
    await copyTree(source, temp, (n) => { copied += n; opts.onProgress?.(model.bytes ? copied / model.bytes : 1, `copied ${(copied / 1e6).toFixed(1)} of ${total}`); }, opts.cancel);
    await fs.promises.rename(temp, dest);
  } catch (err) {
    await fs.promises.rm(temp, { recursive: true, force: true });
    throw err;
  }
  return { ...model, name: path.basename(dest), path: dest };
}

export interface DownloadModelOptions { sha256?: string; name?: string; onProgress?: ProgressFn; cancel?: CancelToken }

/**
 * Downloads a model file into `downloads/` (resumable there), checks it, then moves it into the folder
 * of its kind. Refuses files that are not usable models, keeping nothing.
 */
export async function downloadModel(modelsDir: string, url: string, opts: DownloadModelOptions = {}): Promise<InstalledModel & { sha256: string }> {
  checkSha256(opts.sha256); // a malformed checksum is refused before anything is looked up or fetched
  const name = path.basename(opts.name ?? fileNameFromUrl(url));
  // The kind is known only after the download; refuse a name that is installed under any kind first.
  const existing = Object.values(KIND_FOLDERS).map((k) => path.join(modelsDir, k, name)).find((p) => fs.existsSync(p));
  if (existing) throw new UserError('is already installed; remove it first or download under another --name', existing);
  const staging = path.join(modelsDir, 'downloads', name);
  const { sha256 } = await downloadFile(url, staging, opts);
  const model = await describeInstalled(staging);
  if (!model || model.problem) {
    await fs.promises.rm(staging, { force: true });
    throw new UserError(`the downloaded file is not a usable model: ${model?.problem ?? 'unknown file type'}; it was deleted`, url, model?.detail);
  }
  const dest = destinationFor(modelsDir, model.kind, name);
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  await fs.promises.rename(staging, dest);
  return { ...model, path: dest, sha256 };
}

/** Where the SD1.5 tokenizer (the CLIP ViT-L/14 BPE files) is published; fetched only on request. */
export const SD15_TOKENIZER_SOURCE = 'https://huggingface.co/openai/clip-vit-large-patch14/resolve/main';

/** Downloads vocab.json and merges.txt into tokenizers/<name>/; a folder appears only when both arrived. */
export async function downloadTokenizer(modelsDir: string, opts: { baseUrl?: string; name?: string; onProgress?: ProgressFn; cancel?: CancelToken } = {}): Promise<string> {
  const base = (opts.baseUrl ?? SD15_TOKENIZER_SOURCE).replace(/\/$/, '');
  const dest = destinationFor(modelsDir, 'tokenizer', opts.name ?? 'clip-vit-large-patch14');
  const staging = path.join(modelsDir, 'downloads', `${path.basename(dest)}.tokenizer`);
  const files = ['vocab.json', 'merges.txt'];
  for (const [i, f] of files.entries()) {
    const target = path.join(staging, f);
    if (fs.existsSync(target)) continue;
    await downloadFile(`${base}/${f}`, target, { cancel: opts.cancel, onProgress: (p, m) => opts.onProgress?.((i + p) / files.length, `${f}: ${m ?? ''}`) });
  }
  try {
    await ClipTokenizer.load(staging);
  } catch (err) {
    await fs.promises.rm(staging, { recursive: true, force: true });
    throw new UserError(`the downloaded tokenizer files are not usable (${(err as Error).message}); they were deleted`, base);
  }
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  await fs.promises.rename(staging, dest);
  return dest;
}
