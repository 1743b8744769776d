// The Rerender and independent keyframe methods (keyframe-method.ts): one unit per keyframe. Rerender
// renders the first keyframe as the anchor (recording the caches later keyframes read) and every later one
// constrained by the anchor and the keyframe before it (§3); independent renders each keyframe alone.
import fs from 'node:fs';
import path from 'node:path';
import type { Image } from '../../../native-models/src/image';
import { UserError } from '../../../native-models/src/errors';
import { readRgb, writePng } from '../media/image-files';
import { effectiveRenderParams } from '../project/keyframes';
import { resolveInProject } from '../project/confinement';
import { projectPaths } from '../project/paths';
import type { Keyframe, Project } from '../../../preload/project-schema';
import { CacheReader } from './keyframe-cache';
import { keyframeInputFrame } from './keyframe-commit';
import type { KeyframeMethod, MethodContext, MethodUnit } from './keyframe-method';
import { analyseImage, plannedSteps, renderLater, renderPlain, type CacheTarget, type FrameInput, type RenderEnv } from './keyframe-render';
import { constraintSources, orderedKeyframes, readRecord, refreshesPrevious, settingsKey, type Dependency } from './render-records';

/** A method that renders one keyframe per unit, in timeline order. */
function oneByOne(mode: 'rerender' | 'independent'): KeyframeMethod {
  return {
    plan(project, targets) {
      const keys = orderedKeyframes(project);
      const kind = (k: Keyframe) => (keys.indexOf(k) === 0 || mode === 'independent' ? 'anchor' : 'later');
      return {
        units: targets.map((k): MethodUnit => ({ keyframes: [k], label: `keyframe at frame ${k.frame}` })),
        steps: targets.reduce((a, k) => a + plannedSteps(effectiveRenderParams(project.render, k.overrides), kind(k)), 0),
      };
    },
    async open(ctx) {
      const keyframesDir = projectPaths(ctx.request.projectFile).keyframesDir;
      return {
        async render(unit, project) {
          const k = project.keyframes.find((x) => x.id === unit.keyframes[0].id)!;
          const r = await renderOne(ctx, project, k, mode, keyframesDir);
          const first = orderedKeyframes(project)[0].id === k.id;
          return [{ keyframe: k, image: r.image, seed: effectiveRenderParams(project.render, k.overrides).seed, settingsKey: settingsKey(project, k, mode, first), cacheDir: r.cacheDir, dependsOn: r.dependsOn }];
        },
        written(images) {
          for (const i of images) removeOldCaches(keyframesDir, i.keyframe.id, i.cacheDir);
        },
        unetCalls: () => ctx.models.unetCalls,
        close: async () => {},
      };
    },
  };
}

export const rerenderMethod = oneByOne('rerender');
export const independentMethod = oneByOne('independent');

/** Keeps one cache per keyframe: the one its latest render wrote (disk use stays bounded). */
function removeOldCaches(keyframesDir: string, id: string, keep?: string): void {
  const dir = path.join(keyframesDir, id);
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (name.startsWith('cache-') && p !== keep) fs.rmSync(p, { recursive: true, force: true });
  }
}

interface OneResult { image: Image; cacheDir?: string; dependsOn: Dependency[] }

async function frameInput(ctx: MethodContext, project: Project, k: Keyframe): Promise<FrameInput> {
  const frame = await keyframeInputFrame(ctx.request.projectFile, project, k);
  return { frame, params: effectiveRenderParams(project.render, k.overrides), detector: ctx.request.detector };
}

async function renderOne(ctx: MethodContext, project: Project, k: Keyframe, mode: 'rerender' | 'independent', keyframesDir: string): Promise<OneResult> {
  const env = ctx.env;
  const keys = orderedKeyframes(project);
  const index = keys.findIndex((x) => x.id === k.id);
  const input = await frameInput(ctx, project, k);
  const target = (prefix: string): CacheTarget => {
    const key = settingsKey(project, k, mode, index === 0);
    return { dir: path.join(keyframesDir, k.id, `${prefix}-${key}`), key };
  };
  if (mode === 'independent') return { image: (await renderPlain(env, input)).image, dependsOn: [] };
  if (index === 0) {
    const record = target('cache');
    const r = await renderPlain(env, input, record);
    if (r.colourReference) await writePng(path.join(record.dir, 'colour-reference.png'), r.colourReference);
    return { image: r.image, cacheDir: record.dir, dependsOn: [] };
  }
  const every = project.render.constraints.updatePreviousEvery;
  const sources = constraintSources(keys, index, every);
  const anchorCache = await cacheOf(ctx, project, sources.anchor, 0, env, keyframesDir);
  const tokens = sources.tokens.id === sources.anchor.id ? anchorCache : await cacheOf(ctx, project, sources.tokens, keys.indexOf(sources.tokens), env, keyframesDir);
  const colourFile = path.join(anchorCache.dir, 'colour-reference.png');
  const record = refreshesPrevious(index, every) ? target('cache') : undefined;
  const r = await renderLater(env, input, {
    anchor: { frame: (await frameInput(ctx, project, sources.anchor)).frame, result: await resultOf(ctx, sources.anchor), cache: anchorCache },
    previous: { frame: (await frameInput(ctx, project, sources.previous)).frame, result: await resultOf(ctx, sources.previous) },
    previousTokens: tokens,
    colourReference: input.params.colorPreservation && fs.existsSync(colourFile) ? await readRgb(colourFile) : undefined,
  }, record);
  const dep = (role: Dependency['role'], x: Keyframe): Dependency => ({ role, id: x.id, frame: x.frame, revision: x.revision });
  return { image: r.image, cacheDir: record?.dir, dependsOn: [dep('anchor', sources.anchor), dep('previous', sources.previous), dep('tokens', sources.tokens)] };
}

/** The keyframe's current image; an earlier keyframe must have one before a later one can be constrained by it. */
async function resultOf(ctx: MethodContext, k: Keyframe): Promise<Image> {
  if (!k.image || (k.source === 'diffusion' && k.status !== 'done' && k.status !== 'stale')) {
    throw new UserError(`the keyframe at frame ${k.frame} has no image yet; render it first (rerender render <project> --frame ${k.frame}, or --all)`);
  }
  return readRgb(resolveInProject(ctx.request.projectFile, k.image));
}

/**
 * The caches an earlier keyframe left: a rendered keyframe's from its record (refused when its settings
 * changed since, so nothing latched is used); an imported or painted one's from an analysis of its image,
 * made on first use and kept under a key of the image revision and settings. A render picked back from
 * the history ("Use earlier render") lost its caches when a later render replaced them (one cache per
 * keyframe): its image is analysed like an imported one.
 */
async function cacheOf(ctx: MethodContext, project: Project, k: Keyframe, index: number, env: RenderEnv, keyframesDir: string): Promise<CacheReader> {
  const key = settingsKey(project, k, 'rerender', index === 0);
  if (k.source !== 'diffusion') return analysedCache(ctx, project, k, key, env, keyframesDir);
  const rec = readRecord(ctx.request.projectFile, k);
  const what = index === 0 ? 'the anchor keyframe' : `the keyframe at frame ${k.frame}`;
  if (!rec) throw new UserError(`${what} (frame ${k.frame}) has not been rendered with its caches; render it first (--frame ${k.frame}, or --all)`);
  if (rec.settingsKey !== key) throw new UserError(`${what} (frame ${k.frame}) is out of date: its settings changed since it was rendered; render it again first (--frame ${k.frame}, or --all)`);
  const cache = rec.cacheDir ? CacheReader.open(path.join(keyframesDir, rec.cacheDir)) : undefined;
  return cache ?? analysedCache(ctx, project, k, `${key}-${path.basename(k.image!, '.png')}`, env, keyframesDir);
}

/** Caches made from the keyframe's image itself, on first use; the keyframe's other caches go. */
async function analysedCache(ctx: MethodContext, project: Project, k: Keyframe, key: string, env: RenderEnv, keyframesDir: string): Promise<CacheReader> {
  const dir = path.join(keyframesDir, k.id, `cache-analysis-${key}`);
  const existing = CacheReader.open(dir);
  if (existing) return existing;
  const input = await frameInput(ctx, project, k);
  await analyseImage(env, input, await resultOf(ctx, k), { dir, key });
  removeOldCaches(keyframesDir, k.id, dir);
  const made = CacheReader.open(dir);
  if (!made) throw new UserError(`the caches of the keyframe at frame ${k.frame} could not be written to the project cache`, dir);
  return made;
}
