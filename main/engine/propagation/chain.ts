// One propagation direction over a run of frames: each frame is synthesised from the keyframe with the
// colour, edge, temporal and positional guides, the latter two advected from the previous frame by the flow.
import type { FlowPair } from '../../../native-models/src/flow';
import { occlusionMask, warpImage } from '../../../native-models/src/flow';
import type { FlowField, Image } from '../../../native-models/src/image';
import { synthesize, moveMatches, type MatchField } from '../../../native-models/src/synthesis';
import { buildGuides, edgeGuide, positionMap, advancePositions, temporalGuide, type GuideWeights } from './guides';
import type { ChainStep, ChainStore } from './frame-store';
import type { PropagationSettings } from '../../../preload/project-schema';
import type { CancelToken } from '../../../native-models/src/errors';

/** Flows between consecutive frames: pair(i) holds i→i+1 (forward, on i's grid) and i+1→i (backward). */
export interface FlowProvider { pair(i: number): Promise<FlowPair> }

/** What every propagation step needs, whatever the segment or direction. */
export interface PropagationInputs {
  sourceFrame(index: number): Promise<Image>;
  flows: FlowProvider;
  settings: PropagationSettings;
  seed: number;
  threads?: number;
  cancel?: CancelToken;
}

export interface ChainRequest extends PropagationInputs {
  keyFrame: number;
  /** The keyframe's stylised image. */
  style: Image;
  /** Frames to synthesise, in order, each next to the one before (key±1 first). */
  frames: number[];
  direction: 'forward' | 'backward';
  store: ChainStore;
  onFrame?: (frame: number, resumed: boolean) => void;
  /**
   * Given each step's result as soon as it is stored (or loaded, `resumed`), in chain order; the chain
   * waits for it before the next step, so what it starts cannot pile up.
   */
  onStep?: (frame: number, step: ChainStep, resumed: boolean) => Promise<void>;
}

export function guideWeights(s: PropagationSettings): GuideWeights {
  return { colour: s.guideWeights.color, edges: s.guideWeights.edge, temporal: s.guideWeights.temporal, positional: s.guideWeights.positional };
}

/** Flow on frame j's grid pointing to the previous frame of the chain, and j's pixels not visible there. */
async function stepToward(flows: FlowProvider, j: number, direction: 'forward' | 'backward'): Promise<{ flow: FlowField; occluded: Image }> {
  if (direction === 'forward') {
    const pair = await flows.pair(j - 1);
    return { flow: pair.backward, occluded: await occlusionMask(pair) };
  }
  const pair = await flows.pair(j);
  return { flow: pair.forward, occluded: await occlusionMask({ forward: pair.backward, backward: pair.forward }) };
}

/** The keyframe's own matches: every pixel's patch is its own. */
function identityMatches(width: number, height: number): MatchField {
  const data = new Int32Array(width * height * 2);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) { data[(y * width + x) * 2] = x; data[(y * width + x) * 2 + 1] = y; }
  return { width, height, data };
}

export async function runChain(req: ChainRequest): Promise<void> {
  await req.store.ensure();
  const keySource = await req.sourceFrame(req.keyFrame);
  const keyPositions = positionMap(keySource.width, keySource.height);
  const keyEdges = edgeGuide(keySource); // the same for every frame of the chain
  const weights = guideWeights(req.settings);
  let prevOutput: Image = req.style;
  let prevPositions = keyPositions;
  // The keyframe is its own synthesis, each pixel's patch its own: the first frame starts from those
  // matches carried along the flow, like every later one from its predecessor's.
  let prevMatches: MatchField = identityMatches(keySource.width, keySource.height);
  // Pixels the keyframe does not show: hidden in some step on the way here (what propagation invents).
  let prevUncovered: Image = { width: keySource.width, height: keySource.height, channels: 1, data: new Uint8Array(keySource.width * keySource.height) };
  for (const j of req.frames) {
    req.cancel?.throwIfCancelled();
    const saved = await req.store.load(j);
    if (saved) {
      // Finished in an earlier run with the same keyframes and settings: continue from it.
      prevOutput = saved.image;
      prevPositions = saved.positions;
      prevMatches = saved.matches;
      prevUncovered = saved.uncovered;
      req.onFrame?.(j, true);
      await req.onStep?.(j, saved, true);
      continue;
    }
    const { flow, occluded } = await stepToward(req.flows, j, req.direction);
    const positions = await advancePositions(prevPositions, flow, occluded);
    const uncovered = await warpImage(prevUncovered, flow, 'nearest');
    for (let i = 0; i < uncovered.data.length; i++) if (occluded.data[i]) uncovered.data[i] = 255;
    const previousOutput = await temporalGuide(prevOutput, flow, occluded);
    const target = await req.sourceFrame(j);
    const guides = buildGuides({ keyframe: { frame: keySource, positions: keyPositions, style: req.style, edges: keyEdges }, target: { frame: target, positions, previousOutput } }, weights);
    const result = await synthesize({
      styles: [{ image: req.style }], guides,
      patchSize: req.settings.patchSize, uniformity: req.settings.uniformity, pyramidLevels: req.settings.pyramidLevels,
      searchVoteIters: req.settings.searchVoteIters, patchMatchIters: req.settings.patchMatchIters,
      seed: req.seed + j, threads: req.threads, cancel: req.cancel,
      // Carried to the fraction of a pixel (docs/METHOD.md §4.1): content moving by 0.3 px a frame then
      // moves by 0.3 px, not by a whole pixel every third frame.
      initialMatches: moveMatches(prevMatches, flow, { subpixel: true }),
    });
    const step: ChainStep = { image: result.image, error: result.error, positions, matches: result.matches, uncovered };
    await req.store.save(j, step);
    prevOutput = result.image;
    prevUncovered = uncovered;
    prevPositions = positions;
    prevMatches = result.matches;
    req.onFrame?.(j, false);
    await req.onStep?.(j, step, false);
  }
}
