// One propagation direction over a run of frames: each frame is synthesised from the keyframe with the
// colour, edge, temporal and positional guides, the latter two advected from the previous frame by the flow.
import type { FlowPair } from '../../../native-models/src/flow';
import { occlusionMask, warpFloat, warpImage } from '../../../native-models/src/flow';
import type { FlowField, Image } from '../../../native-models/src/image';
import { synthesize, type MatchField } from '../../../native-models/src/synthesis';
import { buildGuides, positionMap, type GuideWeights } from './guides';
import { inpaintFloat, inpaintImage } from './inpaint';
import type { ChainStore } from './frame-store';
import type { PropagationSettings } from '../project/schema';
import type { CancelToken } from '../errors';

/** Flows between consecutive frames: pair(i) holds i→i+1 (forward, on i's grid) and i+1→i (backward). */
export interface FlowProvider { pair(i: number): Promise<FlowPair> }

export interface ChainRequest {
  keyFrame: number;
  /** The keyframe's stylised image. */
  style: Image;
  /** Frames to synthesise, in order, each next to the one before (key±1 first). */
  frames: number[];
  direction: 'forward' | 'backward';
  store: ChainStore;
  sourceFrame(index: number): Promise<Image>;
  flows: FlowProvider;
  settings: PropagationSettings;
  seed: number;
  threads?: number;
  cancel?: CancelToken;
  onFrame?: (frame: number, resumed: boolean) => void;
}

export function guideWeights(s: PropagationSettings): GuideWeights {
  return { colour: s.guideWeights.color, edges: s.guideWeights.edge, temporal: s.guideWeights.temporal, positional: s.guideWeights.positional };
}

/** Flow on frame j's grid pointing to the previous frame of the chain, and j's pixels not visible there. */
async function stepToward(flows: FlowProvider, j: number, direction: 'forward' | 'backward'): Promise<{ flow: FlowField; holes: Uint8Array }> {
  if (direction === 'forward') {
    const pair = await flows.pair(j - 1);
    return { flow: pair.backward, holes: (await occlusionMask(pair)).data };
  }
  const pair = await flows.pair(j);
  return { flow: pair.forward, holes: (await occlusionMask({ forward: pair.backward, backward: pair.forward })).data };
}

/** Moves each target pixel's match to where the flow says the pixel came from (temporal coherence). */
function advectMatches(prev: MatchField, flow: FlowField): MatchField {
  const { width: w, height: h } = flow;
  const data = new Int32Array(w * h * 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const qx = Math.min(w - 1, Math.max(0, Math.round(x + flow.data[i * 2])));
      const qy = Math.min(h - 1, Math.max(0, Math.round(y + flow.data[i * 2 + 1])));
      const q = qy * w + qx;
      data[i * 2] = prev.data[q * 2];
      data[i * 2 + 1] = prev.data[q * 2 + 1];
    }
  }
  return { width: w, height: h, data };
}

export async function runChain(req: ChainRequest): Promise<void> {
  await req.store.ensure();
  const keySource = await req.sourceFrame(req.keyFrame);
  const keyPositions = positionMap(keySource.width, keySource.height);
  const weights = guideWeights(req.settings);
  let prevOutput: Image = req.style;
  let prevPositions = keyPositions;
  let prevMatches: MatchField | undefined;
  for (const j of req.frames) {
    req.cancel?.throwIfCancelled();
    const saved = await req.store.load(j);
    if (saved) {
      // Finished in an earlier run with the same keyframes and settings: continue from it.
      prevOutput = saved.image;
      prevPositions = saved.positions;
      prevMatches = undefined;
      req.onFrame?.(j, true);
      continue;
    }
    const { flow, holes } = await stepToward(req.flows, j, req.direction);
    const positions = inpaintFloat(await warpFloat(prevPositions, flow, 'bilinear'), holes);
    const previousOutput = inpaintImage(await warpImage(prevOutput, flow, 'bilinear'), holes);
    const target = await req.sourceFrame(j);
    const guides = buildGuides({ keyframe: { frame: keySource, positions: keyPositions, style: req.style }, target: { frame: target, positions, previousOutput } }, weights);
    const result = await synthesize({
      styles: [{ image: req.style }], guides,
      patchSize: req.settings.patchSize, uniformity: req.settings.uniformity, pyramidLevels: req.settings.pyramidLevels,
      searchVoteIters: req.settings.searchVoteIters, patchMatchIters: req.settings.patchMatchIters,
      seed: req.seed + j, threads: req.threads, cancel: req.cancel,
      initialMatches: prevMatches ? advectMatches(prevMatches, flow) : undefined,
    });
    await req.store.save(j, result.image, result.error, positions);
    prevOutput = result.image;
    prevPositions = positions;
    prevMatches = result.matches;
    req.onFrame?.(j, false);
  }
}
