// What a farm worker needs to take render jobs: an execution provider that starts and a models folder
// with a checkpoint (checked once at start), and, per job, the project's models found on this machine.
// Models are the worker's own: a path the project stores relative to the models folder, or inside the
// submitter's models folder, is looked up in this worker's models folder; any other absolute path must
// be on the shared storage (through the path map).
import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../../preload/project-schema';
import { listModels } from '../../native-models/src/model-manager';
import { PROVIDER_ORDER, probeProvider, type ProviderName } from '../../native-models/src/runtime/providers';
import { mapPath, PathRefused, type PathMap } from './path-map';
import { isInside } from '../engine/project/confinement';

export type RenderCapability =
  | { ok: true; provider: ProviderName; skipped: Array<{ provider: ProviderName; reason: string }> }
  | { ok: false; reason: string };

/** Whether this machine can render keyframes: the first execution provider that starts, and a checkpoint in `modelsDir`. */
export async function renderCapability(modelsDir: string, providers: readonly ProviderName[] = PROVIDER_ORDER): Promise<RenderCapability> {
  const models = await listModels(modelsDir);
  if (!models.some((m) => (m.kind === 'checkpoint' || m.kind === 'diffusers') && !m.problem)) {
    return { ok: false, reason: `no usable Stable Diffusion checkpoint in the models folder ${modelsDir} (--models-dir or $RERENDER_MODELS)` };
  }
  const skipped: Array<{ provider: ProviderName; reason: string }> = [];
  for (const p of providers) {
    const reason = await probeProvider(p);
    if (!reason) return { ok: true, provider: p, skipped };
    skipped.push({ provider: p, reason });
  }
  return { ok: false, reason: `no execution provider starts here (${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')})` };
}

export interface ModelPlaces {
  /** This worker's models folder. */
  modelsDir: string;
  /** The submitter's models folder, as named in the job. */
  submitterModelsDir: string;
  pathMap: PathMap;
}

/** Where a model path stored in the project is on this worker (throws PathRefused for a path it must not read). */
export function workerModelPath(places: ModelPlaces, stored: string): string {
  if (stored.includes('\0')) throw new PathRefused('a model path in the project contains a NUL character');
  if (!path.isAbsolute(stored)) {
    if (stored.split(/[\\/]+/).includes('..')) throw new PathRefused(`the model path "${stored}" climbs out of the models folder`);
    return path.join(places.modelsDir, stored);
  }
  const root = path.normalize(places.submitterModelsDir), file = path.normalize(stored);
  if (path.isAbsolute(root) && file !== root && isInside(root, file)) return path.join(places.modelsDir, path.relative(root, file));
  return mapPath(places.pathMap, stored).local;
}

/** The project's models this worker lacks, one line each (empty when it has them all). */
export function missingModels(places: ModelPlaces, project: Project): string[] {
  const m = project.models;
  const wanted: Array<[string, string | null | undefined]> = [
    ['checkpoint', m.checkpoint], ['VAE', m.vae], ['ControlNet', m.controlnet], ['detector', m.detector],
    ...m.loras.map((l): [string, string] => ['LoRA', l.file]),
    // FRESCO's background smoothing: without its model a worker would render without it, unlike this run's owner.
    ...(project.mode === 'fresco' && project.fresco?.backgroundSmoothing ? [['saliency model', project.fresco.saliencyModel] as [string, string | null | undefined]] : []),
  ];
  const out: string[] = [];
  for (const [role, stored] of wanted) {
    if (!stored) continue;
    let local: string;
    try {
      local = workerModelPath(places, stored);
    } catch (err) {
      out.push(`${role} ${stored}: ${(err as Error).message}`);
      continue;
    }
    if (!fs.existsSync(local)) out.push(`${role} ${stored} is not on this worker (looked for ${local})`);
  }
  return out;
}
