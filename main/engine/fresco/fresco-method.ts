// The FRESCO keyframe method (issue 9; keyframe-method.ts). Rendering all keyframes goes through them in
// timeline order in batches (batches.ts); regenerating one renders it in a batch with the first keyframe
// and the keyframe before it, whose new images are discarded. Only diffusion keyframes take part: imported
// and painted ones keep their images. The shared runner records every finished keyframe like any other.
import type { Image } from '../../../native-models/src/image';
import { projectModelPath, resolveModelsDir } from '../../../native-models/src/model-manager';
import { effectiveRenderParams } from '../project/keyframes';
import type { Keyframe, Project, RenderParams } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';
import { keyframeInputFrame } from '../render/keyframe-commit';
import type { KeyframeMethod, MethodPlan, MethodUnit, RenderRequest } from '../render/keyframe-method';
import { orderedKeyframes, settingsKey } from '../render/render-records';
import { openSaliencyModel, type SaliencyModel } from './background-smoothing';
import { batchParams, planBatches, regenerateBatch, type Batch } from './batches';
import { batchSteps, renderFrescoBatch, type FrescoBatchReport } from './fresco-render';
import { FrescoUNet } from './fresco-unet';
import { defaultFrescoSettings, frescoComponentsOff, saliencyAvailability, type FrescoSettings } from './settings';

interface FrescoUnit extends MethodUnit { batch: Batch; params: RenderParams[] }

interface FrescoPlan extends MethodPlan<FrescoUnit> {
  settings: FrescoSettings;
  /** Diffusion keyframes in timeline order: the batches' indices point into it. */
  keys: Keyframe[];
  saliencyFile?: string;
  /** §2 colour preservation: the first keyframe rendered from pure noise gives every keyframe its colours. */
  colour: boolean;
}

/**
 * The batches a FRESCO render of `targets` consists of, as keyframe ids (timeline order) and the ids that
 * get its new images: the units a render farm queues as separate jobs. The batches do not depend on each
 * other's images (each renders from its input frames; the colour reference is rendered again per job, the
 * same bytes), so they may run at once on different machines.
 */
export function frescoUnits(project: Project, targets: Keyframe[], req: RenderRequest): Array<{ batch: NonNullable<RenderRequest['frescoBatch']>; label: string; steps: number }> {
  const plan = frescoMethod.plan(project, targets, { ...req, frescoBatch: undefined }, []);
  return plan.units.map((u) => {
    const batch = { keyframes: u.batch.keyframes.map((i) => plan.keys[i].id), keep: u.batch.keep.map((i) => plan.keys[i].id) };
    return { batch, label: u.label, steps: frescoMethod.plan(project, targets, { ...req, frescoBatch: batch }, []).steps };
  });
}

/** The batch a request names by keyframe ids, as indices into the ordered diffusion keyframes. */
function namedBatch(keys: Keyframe[], named: NonNullable<RenderRequest['frescoBatch']>): Batch {
  const index = (id: string) => {
    const i = keys.findIndex((k) => k.id === id);
    if (i < 0) throw new UserError(`the FRESCO batch names keyframe ${id}, which is not a diffusion keyframe of the project`);
    return i;
  };
  const keyframes = named.keyframes.map(index);
  if (keyframes.some((i, n) => n > 0 && i <= keyframes[n - 1])) throw new UserError('the FRESCO batch does not list its keyframes once each in timeline order');
  const keep = named.keep.map(index);
  if (!keep.length || keep.some((i) => !keyframes.includes(i))) throw new UserError('the FRESCO batch keeps keyframes it does not render');
  return { keyframes, keep };
}

export const frescoMethod: KeyframeMethod<FrescoUnit, FrescoPlan> = {
  plan(project, targets, req, warnings) {
    const settings: FrescoSettings = { ...defaultFrescoSettings(), ...project.fresco };
    // This run's saliency model (CLI --saliency), else the project's choice; opened with the other models.
    const saliencyFile = req.saliencyModel ?? (settings.saliencyModel ? (req.modelPath?.(settings.saliencyModel) ?? projectModelPath(resolveModelsDir(req.modelsDir), settings.saliencyModel)) : undefined);
    if (settings.backgroundSmoothing) {
      const a = saliencyAvailability(saliencyFile);
      if (!a.available) { warnings.push(`background smoothing is unavailable: ${a.reason}`); settings.backgroundSmoothing = false; }
    }
    const keys = orderedKeyframes(project).filter((k) => k.source === 'diffusion');
    // Every keyframe: batch by batch; some (one, or those not done yet): each in its own batch with its
    // context; a farm job: the one batch it names (a unit of one of those plans, see frescoUnits).
    const batches: Batch[] = req.frescoBatch ? [namedBatch(keys, req.frescoBatch)]
      : req.target === 'all' || targets.length === keys.length
        ? planBatches(keys.length, settings.batchSize).map((b) => ({ keyframes: b.keyframes, keep: b.keyframes.slice(b.prefix) }))
        : targets.map((t) => regenerateBatch(keys.length, keys.findIndex((k) => k.id === t.id)));
    const units = batches.map((batch, b): FrescoUnit => ({
      batch, params: batchParams(project, keys, batch, warnings), keyframes: batch.keep.map((i) => keys[i]),
      label: `FRESCO batch ${b + 1} of ${batches.length} (frames ${batch.keyframes.map((i) => keys[i].frame).join(', ')})`,
    }));
    const colour = units.some((u) => u.params.some((p) => p.colorPreservation));
    const steps = Math.max(1, units.reduce((a, u) => a + batchSteps(u.params[0], settings), colour ? effectiveRenderParams(project.render, keys[0].overrides).steps : 0));
    return { units, steps, settings, keys, saliencyFile, colour };
  },

  async open(ctx, plan, project) {
    const { settings, keys } = plan;
    const req = ctx.request;
    const env = { ...ctx.env, unet: FrescoUNet.over(ctx.runtime, ctx.models) };
    const batches: FrescoBatchReport[] = [];
    const saliency: SaliencyModel | undefined = settings.backgroundSmoothing ? await openSaliencyModel(plan.saliencyFile!) : undefined;
    let colourReference: Image | undefined;
    try {
      if (plan.colour) {
        ctx.stage(`colour reference (frame ${keys[0].frame})`);
        const p = effectiveRenderParams(project.render, keys[0].overrides);
        const r = await renderFrescoBatch(env, { frames: [await keyframeInputFrame(req.projectFile, project, keys[0])], params: [{ ...p, strength: 1, colorPreservation: false }], settings: frescoComponentsOff(settings), detector: req.detector });
        colourReference = r.images[0];
      }
    } catch (err) {
      await saliency?.close();
      throw err;
    }
    return {
      async render(unit, current) {
        const frames = await Promise.all(unit.batch.keyframes.map((i) => keyframeInputFrame(req.projectFile, current, keys[i])));
        const r = await renderFrescoBatch(env, { frames, params: unit.params, settings, detector: req.detector, saliency, colourReference });
        batches.push(r.report);
        return unit.batch.keep.map((i) => {
          const k = current.keyframes.find((x) => x.id === keys[i].id)!, j = unit.batch.keyframes.indexOf(i);
          return {
            keyframe: k, image: r.images[j], seed: unit.params[j].seed, settingsKey: settingsKey(current, k, 'fresco', false),
            dependsOn: unit.batch.keyframes.filter((m) => m !== i).map((m) => ({ role: 'batch' as const, id: keys[m].id, frame: keys[m].frame, revision: keys[m].revision })),
          };
        });
      },
      unetCalls: () => env.unet.calls,
      report: () => ({ fresco: { batches } }),
      close: async () => { await saliency?.close(); },
    };
  },
};
