// What each rendered keyframe depended on, and the staleness rules of docs/METHOD.md §3.5–§3.6 derived from
// it: a record per keyframe (its settings key, the anchor / previous / token-source revisions it used, or
// in FRESCO mode the keyframes of its batch; its cache folder) lets the app say which keyframes and
// segments are out of date and why, and lets a later keyframe find the caches it needs after a restart.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FrescoSettings, Keyframe, ModelSelection, Project, RenderParams } from '../../../preload/project-schema';
import { defaultFrescoSettings } from '../fresco/settings';
import { effectiveRenderParams, segmentsOf, type Segment } from '../project/keyframes';
import { projectPaths } from '../project/paths';
import { writeFileAtomic } from '../fs/atomic';

/** anchor / previous / tokens: Rerender's constraints; batch: rendered together with it in a FRESCO batch. */
export type KeyframeRole = 'anchor' | 'previous' | 'tokens' | 'batch';

export interface Dependency { role: KeyframeRole; id: string; frame: number; revision: number }

export interface RenderRecord {
  /** The keyframe revision this record describes. */
  revision: number;
  mode: Project['mode'];
  /** The seed of this render (kept for the history entry when it is replaced). */
  seed: number;
  /** Key of the settings that produced the image (own parameters, models, frame, size). */
  settingsKey: string;
  /** Cache folder relative to the keyframes folder, when the render left one (anchor, "previous" refresh). */
  cacheDir?: string;
  dependsOn: Dependency[];
  createdAt: string;
}

/** A render's record lies beside its image (`<image>.json`): the image's own seed and inputs, wherever it is used from. */
export function recordPath(projectFile: string, image: string): string {
  return path.join(projectPaths(projectFile).dir, image.replace(/\.png$/i, '') + '.json');
}

const dependency = z.object({ role: z.enum(['anchor', 'previous', 'tokens', 'batch']), id: z.string(), frame: z.number().int(), revision: z.number().int() });
const renderRecord = z.object({
  revision: z.number().int(), mode: z.enum(['rerender', 'independent', 'fresco']), seed: z.number().int(), settingsKey: z.string(),
  cacheDir: z.string().optional(), dependsOn: z.array(dependency), createdAt: z.string(),
});

/** The record of keyframe `k`'s current image (validated; a missing or damaged one is none), or undefined when it was not rendered. */
export function readRecord(projectFile: string, k: Pick<Keyframe, 'image'>): RenderRecord | undefined {
  if (!k.image) return undefined;
  try {
    const r = renderRecord.safeParse(JSON.parse(fs.readFileSync(recordPath(projectFile, k.image), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRecord(projectFile: string, image: string, record: RenderRecord): Promise<void> {
  await writeFileAtomic(recordPath(projectFile, image), JSON.stringify(record, null, 1));
}

function hash(value: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24);
}

/** Parameters a keyframe's diffusion depends on, without the constraint settings (they only shape later keyframes' use). */
function diffusionParams(p: RenderParams): Omit<RenderParams, 'constraints'> {
  const { constraints: _unused, ...rest } = p;
  return rest;
}

/**
 * The key of a keyframe's own render: everything its pixels and caches depend on except the keyframes it
 * is constrained by (those are tracked as dependencies with their revisions).
 */
export function settingsKey(project: Project, k: Keyframe, mode: RenderRecord['mode'], isAnchor: boolean): string {
  const params = effectiveRenderParams(project.render, k.overrides);
  const models: ModelSelection = project.models;
  const constrained = mode === 'rerender' && !isAnchor;
  return hash({
    mode, frame: k.frame, size: [project.working.width, project.working.height], models,
    params: constrained ? params : diffusionParams(params),
    // The constraint windows became fractions of the executed steps (step-windows.ts), and D comes from
    // pass 1's x̂₀ at the pixel window unless the full first pass is asked for: a later keyframe rendered
    // under another reading is not reused as if it were this render. Likewise the fidelity encoding's
    // artefact check, which reads the VAE round trip instead of decoding the compensated latent.
    ...(constrained ? { windows: 'executed-steps', firstPass: params.constraints.fullFirstPass ? 'full' : 'to-pixel-window', fidelityCheck: 'round-trip' } : {}),
    image: k.source === 'diffusion' ? null : { image: k.image, revision: k.revision },
    ...(mode === 'fresco' ? { fresco: frescoKeySettings(project) } : {}),
  });
}

/**
 * The FRESCO settings a render depends on. Background smoothing is left out: whether it runs also depends
 * on a saliency model being supplied to that run, which the project does not record.
 */
function frescoKeySettings(project: Project): Omit<FrescoSettings, 'backgroundSmoothing' | 'smoothingSteps' | 'saliencyModel'> {
  const { backgroundSmoothing: _on, smoothingSteps: _steps, saliencyModel: _model, ...rest } = { ...defaultFrescoSettings(), ...project.fresco };
  return rest;
}

/** Keyframes in timeline order; the first is the anchor. */
export function orderedKeyframes(p: Project): Keyframe[] {
  return [...p.keyframes].sort((a, b) => a.frame - b.frame);
}

/**
 * Which earlier keyframes keyframe `index` (in timeline order, ≥ 1) is constrained by: the anchor, the
 * keyframe just before it, and the keyframe whose tokens are the "previous" cache — the latest one at or
 * before the previous keyframe that refreshed it (every N-th later keyframe refreshes; the anchor starts it).
 */
export function constraintSources(keys: Keyframe[], index: number, updateEvery: number): { anchor: Keyframe; previous: Keyframe; tokens: Keyframe } {
  let t = index - 1;
  while (t > 0 && t % updateEvery !== 0) t--;
  return { anchor: keys[0], previous: keys[index - 1], tokens: keys[t] };
}

/** Whether keyframe `index` refreshes the "previous" cache (so its pass 2 must record tokens). */
export function refreshesPrevious(index: number, updateEvery: number): boolean {
  return index > 0 && index % updateEvery === 0;
}

export interface Staleness { id: string; frame: number; reason: string }

const METHOD_NAMES: Record<Project['mode'], string> = { rerender: 'Rerender', independent: 'independent', fresco: 'FRESCO' };

/**
 * Rendered keyframes that no longer match what produced them: the project's method or their own settings
 * changed, or a keyframe they were constrained by has a different revision (or moved, or is gone).
 * Imported and painted keyframes are never stale: they are used as they are. `read` gives a keyframe's
 * record (the editor passes a cached reader).
 */
export function findStaleKeyframes(projectFile: string, p: Project, read: (k: Keyframe) => RenderRecord | undefined = (k) => readRecord(projectFile, k)): Staleness[] {
  const keys = orderedKeyframes(p);
  const byId = new Map(keys.map((k) => [k.id, k]));
  const role = (d: Dependency) => (d.role === 'anchor' ? 'anchor' : 'previous');
  const out: Staleness[] = [];
  let anchorSettingsChanged = false;
  keys.forEach((k, index) => {
    if (k.source !== 'diffusion' || (k.status !== 'done' && k.status !== 'stale')) return;
    const rec = read(k);
    if (!rec) return; // rendered before records existed: nothing to compare
    const stale = (reason: string) => out.push({ id: k.id, frame: k.frame, reason });
    if (rec.mode !== p.mode) return stale(`it was rendered with the ${METHOD_NAMES[rec.mode]} method; the project now uses ${METHOD_NAMES[p.mode]}`);
    if (rec.settingsKey !== settingsKey(p, k, rec.mode, index === 0)) {
      if (index === 0) anchorSettingsChanged = true;
      return stale('its render settings changed since it was rendered');
    }
    if (rec.mode === 'fresco') {
      // A FRESCO keyframe was rendered from its batch's input frames: moving or removing one changes it.
      for (const d of rec.dependsOn) {
        const dep = byId.get(d.id);
        if (!dep) return stale(`a keyframe of its FRESCO batch (frame ${d.frame}) was removed`);
        if (dep.frame !== d.frame) return stale(`a keyframe of its FRESCO batch moved from frame ${d.frame} to ${dep.frame}`);
      }
      return;
    }
    if (rec.mode !== 'rerender' || index === 0) return;
    // §3.5: changing what the anchor depends on makes every keyframe constrained by it out of date.
    if (anchorSettingsChanged) return stale(`the anchor keyframe's settings changed (frame ${keys[0].frame})`);
    if (rec.dependsOn.every((d) => d.id !== keys[0].id)) return stale(`the anchor is now the keyframe at frame ${keys[0].frame}`);
    for (const d of rec.dependsOn) {
      const dep = byId.get(d.id);
      if (!dep) return stale(`the ${role(d)} keyframe it used (frame ${d.frame}) was removed`);
      if (dep.revision !== d.revision) return stale(`the ${role(d)} keyframe at frame ${dep.frame} has a new image`);
    }
    const { previous } = constraintSources(keys, index, 1);
    if (!rec.dependsOn.some((d) => d.role === 'previous' && d.id === previous.id)) return stale(`the keyframe before it is now the one at frame ${previous.frame}`);
  });
  return out;
}

/** Applies findStaleKeyframes to the project: stale keyframes get status "stale" and the reason as note. */
export function markStaleKeyframes(projectFile: string, p: Project): { project: Project; stale: Staleness[] } {
  const stale = findStaleKeyframes(projectFile, p);
  const reasons = new Map(stale.map((s) => [s.id, s.reason]));
  const project = { ...p, keyframes: p.keyframes.map((k) => (reasons.has(k.id) ? { ...k, status: 'stale' as const, note: reasons.get(k.id) } : k)) };
  return { project, stale };
}

/** Propagated segments that use a keyframe (they are out of date once its image changes). */
export function segmentsTouching(p: Project, keyframeId: string): Segment[] {
  return segmentsOf(p).filter((s) => s.left?.id === keyframeId || s.right?.id === keyframeId);
}
