// Guide images for propagating a keyframe to another frame (docs/METHOD.md §4.1): colour, edges,
// temporal and positional guides, with their default weights.
import type { FloatImage, FlowField, Image } from '../../../native-models/src/image';
import type { Guide } from '../../../native-models/src/synthesis';
import { warpFloat, warpImage } from '../../../native-models/src/flow';
import { inpaintFloat, inpaintImage } from './inpaint';
import { defaultPropagationSettings } from '../project/defaults';

/** Default weight of each guide: the project defaults' (the user may edit them per project), under the guides' names. */
const projectDefaults = defaultPropagationSettings().guideWeights;
export const DEFAULT_GUIDE_WEIGHTS = {
  colour: projectDefaults.color, edges: projectDefaults.edge, temporal: projectDefaults.temporal, positional: projectDefaults.positional,
} as const;

export type GuideWeights = { [K in keyof typeof DEFAULT_GUIDE_WEIGHTS]: number };

/** Rec. 601 luma of an RGB (or grey) 8-bit image, as floats in 0–255. */
function luma(im: Image): Float32Array {
  const out = new Float32Array(im.width * im.height);
  const ch = im.channels;
  for (let i = 0; i < out.length; i++) {
    const p = i * ch;
    out[i] = ch >= 3 ? 0.299 * im.data[p] + 0.587 * im.data[p + 1] + 0.114 * im.data[p + 2] : im.data[p];
  }
  return out;
}

/**
 * Edge guide: the 3×3 Laplacian (4-neighbour) of the frame's luma with negative responses clipped
 * to 0, so each edge shows once, on its darker side. Borders repeat the edge pixel.
 */
export function edgeGuide(frame: Image): Image {
  const { width: w, height: h } = frame;
  const y = luma(frame);
  const data = new Uint8Array(w * h);
  for (let r = 0; r < h; r++) {
    const up = (r > 0 ? r - 1 : r) * w, row = r * w, down = (r < h - 1 ? r + 1 : r) * w;
    for (let c = 0; c < w; c++) {
      const left = c > 0 ? c - 1 : c, right = c < w - 1 ? c + 1 : c;
      const lap = y[up + c] + y[down + c] + y[row + left] + y[row + right] - 4 * y[row + c];
      data[row + c] = Math.max(0, Math.min(255, Math.round(lap)));
    }
  }
  return { width: w, height: h, channels: 1, data };
}

/** Positional guide at the keyframe: R = y/(H−1), G = x/(W−1), in 0–1. Later frames advect it by the flow. */
export function positionMap(width: number, height: number): FloatImage {
  const data = new Float32Array(width * height * 2);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      data[(y * width + x) * 2] = height > 1 ? y / (height - 1) : 0;
      data[(y * width + x) * 2 + 1] = width > 1 ? x / (width - 1) : 0;
    }
  return { width, height, channels: 2, data };
}

/**
 * The positional guide one frame further along a propagation chain: the previous frame's map pulled
 * along `flowToPrevious` (this frame's grid → the previous frame), with occluded pixels inpainted.
 */
export async function advancePositions(previous: FloatImage, flowToPrevious: FlowField, occluded: Image): Promise<FloatImage> {
  return inpaintFloat(await warpFloat(previous, flowToPrevious, 'bilinear'), occluded.data);
}

/** The temporal guide: the previous output of the same direction warped into this frame, occlusions inpainted. */
export async function temporalGuide(previousOutput: Image, flowToPrevious: FlowField, occluded: Image): Promise<Image> {
  return inpaintImage(await warpImage(previousOutput, flowToPrevious, 'bilinear'), occluded.data);
}

/** What is known about the keyframe and about the frame being synthesised. */
export interface GuideInputs {
  /** `edges`: edgeGuide(frame), when the caller keeps it for every frame of a chain (made here otherwise). */
  keyframe: { frame: Image; positions: FloatImage; style: Image; edges?: Image };
  target: {
    frame: Image;
    /** The keyframe's position map advected to this frame (occlusions inpainted). */
    positions: FloatImage;
    /** The previous output of the same direction warped into this frame (occlusions inpainted); absent next to the keyframe. */
    previousOutput?: Image;
  };
}

/**
 * The guide list for one synthesis. Next to the keyframe the temporal guide's target is the
 * keyframe's own style (nothing has moved yet), so the guide set has the same shape for every frame.
 */
export function buildGuides(input: GuideInputs, weights: GuideWeights = DEFAULT_GUIDE_WEIGHTS): Guide[] {
  const { keyframe, target } = input;
  const guides: Guide[] = [
    { name: 'colour', source: keyframe.frame, target: target.frame, weight: weights.colour },
    { name: 'edges', source: keyframe.edges ?? edgeGuide(keyframe.frame), target: edgeGuide(target.frame), weight: weights.edges },
    { name: 'temporal', source: keyframe.style, target: target.previousOutput ?? keyframe.style, weight: weights.temporal },
    { name: 'positional', source: keyframe.positions, target: target.positions, weight: weights.positional },
  ];
  return guides.filter((g) => (g.weight ?? 1) > 0);
}
