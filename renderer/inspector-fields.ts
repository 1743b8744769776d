// The inspector's fields: which render setting each control edits, how it is grouped, and how a
// keyframe's override of it is read and written (field by field, on top of the project defaults).
import type { RenderOverrides, RenderParams } from '../preload/api';

export type FieldKind = 'text' | 'textarea' | 'number' | 'select' | 'checkbox' | 'window';

export interface Field {
  /** Dotted path into RenderParams: "prompt", "controlnet.strength", "constraints.pixel". */
  path: string;
  label: string;
  kind: FieldKind;
  group: 'Prompt' | 'Sampling' | 'ControlNet' | 'Advanced';
  min?: number;
  max?: number;
  step?: number;
  options?: readonly string[];
  hint?: string;
}

export const FIELDS: readonly Field[] = [
  { path: 'prompt', label: 'Prompt', kind: 'textarea', group: 'Prompt' },
  { path: 'negativePrompt', label: 'Negative prompt', kind: 'textarea', group: 'Prompt' },
  { path: 'seed', label: 'Seed', kind: 'number', group: 'Sampling', min: 0, max: 2 ** 32 - 1, step: 1 },
  { path: 'strength', label: 'Strength', kind: 'number', group: 'Sampling', min: 0, max: 1, step: 0.05, hint: 'how far from the source frame (1 = from noise)' },
  { path: 'steps', label: 'Steps', kind: 'number', group: 'Sampling', min: 1, max: 1000, step: 1 },
  { path: 'cfg', label: 'CFG scale', kind: 'number', group: 'Sampling', min: 0, max: 100, step: 0.5 },
  { path: 'sampler', label: 'Sampler', kind: 'select', group: 'Sampling', options: ['ddim', 'dpmpp-2m'], hint: 'deterministic samplers: the cross-frame constraints need every step to add no fresh noise (ancestral samplers do)' },
  { path: 'controlnet.type', label: 'ControlNet', kind: 'select', group: 'ControlNet', options: ['none', 'canny', 'softedge', 'depth'] },
  { path: 'controlnet.strength', label: 'ControlNet strength', kind: 'number', group: 'ControlNet', min: 0, max: 2, step: 0.05 },
  { path: 'controlnet.cannyLow', label: 'Canny low', kind: 'number', group: 'ControlNet', min: 0, max: 255, step: 1 },
  { path: 'controlnet.cannyHigh', label: 'Canny high', kind: 'number', group: 'ControlNet', min: 0, max: 255, step: 1 },
  { path: 'constraints.crossFrame', label: 'Cross-frame attention', kind: 'window', group: 'Advanced', hint: 'share of the sampling steps (start–end)' },
  { path: 'constraints.shape', label: 'Shape-aware fusion', kind: 'window', group: 'Advanced' },
  { path: 'constraints.pixel', label: 'Pixel-aware fusion', kind: 'window', group: 'Advanced' },
  { path: 'constraints.color', label: 'Colour adjustment', kind: 'window', group: 'Advanced' },
  { path: 'constraints.fusionStrength', label: 'Fusion strength', kind: 'number', group: 'Advanced', min: 0, max: 1, step: 0.05 },
  { path: 'constraints.detailLevel', label: 'Detail level', kind: 'number', group: 'Advanced', min: 0, max: 1, step: 0.05 },
  { path: 'constraints.smoothBoundary', label: 'Smooth fusion boundary', kind: 'checkbox', group: 'Advanced' },
  { path: 'constraints.looseAttention', label: 'Loose cross-frame attention', kind: 'checkbox', group: 'Advanced' },
  { path: 'constraints.updatePreviousEvery', label: 'Update previous-frame cache every N keyframes', kind: 'number', group: 'Advanced', min: 1, max: 1000, step: 1 },
  { path: 'colorPreservation', label: 'Preserve source colours', kind: 'checkbox', group: 'Advanced' },
];

type Bag = Record<string, unknown>;

function split(path: string): [string, string | undefined] {
  const [a, b] = path.split('.');
  return [a, b];
}

export function defaultValue(render: RenderParams, path: string): unknown {
  const [a, b] = split(path);
  const top = (render as unknown as Bag)[a];
  return b === undefined ? top : (top as Bag)[b];
}

/** The keyframe's own value for a field, or undefined when it follows the project default. */
export function overrideValue(overrides: RenderOverrides, path: string): unknown {
  const [a, b] = split(path);
  const top = (overrides as Bag)[a];
  if (b === undefined) return top;
  return top === undefined ? undefined : (top as Bag)[b];
}

/** Overrides with one field set (or removed when `value` is undefined), leaving the rest alone. */
export function withOverride(overrides: RenderOverrides, path: string, value: unknown): RenderOverrides {
  const [a, b] = split(path);
  const next: Bag = { ...(overrides as Bag) };
  if (b === undefined) {
    if (value === undefined) delete next[a]; else next[a] = value;
    return next as RenderOverrides;
  }
  const inner: Bag = { ...((next[a] as Bag | undefined) ?? {}) };
  if (value === undefined) delete inner[b]; else inner[b] = value;
  if (Object.keys(inner).length === 0) delete next[a]; else next[a] = inner;
  return next as RenderOverrides;
}

/** Project defaults with one field changed. */
export function withDefault(render: RenderParams, path: string, value: unknown): RenderParams {
  const [a, b] = split(path);
  const bag = { ...(render as unknown as Bag) };
  if (b === undefined) bag[a] = value;
  else bag[a] = { ...(bag[a] as Bag), [b]: value };
  return bag as unknown as RenderParams;
}
