// The inspector's fields: which render setting each control edits, how it is grouped, and how a
// keyframe's override of it is read and written (field by field, on top of the project defaults).
// Ranges and choices are the project schema's (preload/setting-ranges.ts), never re-typed here.
import type { RenderOverrides, RenderParams } from '../preload/api';
import { numberRange, settingChoices } from '../preload/setting-ranges';

export type FieldKind = 'text' | 'textarea' | 'number' | 'select' | 'checkbox' | 'window';

/** A field as declared here: what it edits and how it is shown. Its valid values come from the schema. */
interface FieldDeclaration {
  /** Dotted path into RenderParams: "prompt", "controlnet.strength", "constraints.pixel". */
  path: string;
  label: string;
  kind: FieldKind;
  group: 'Prompt' | 'Sampling' | 'ControlNet' | 'Advanced';
  /** The spinner's increment for a decimal setting (whole-number settings step by 1). */
  step?: number;
  /** Choices of the schema the inspector does not offer (the hint says why). */
  hidden?: readonly string[];
  hint?: string;
}

export interface Field extends FieldDeclaration {
  /** The schema's range (for a window: of its start and its end). */
  min?: number;
  max?: number;
  integer?: boolean;
  options?: readonly string[];
}

const DECLARED: readonly FieldDeclaration[] = [
  { path: 'prompt', label: 'Prompt', kind: 'textarea', group: 'Prompt' },
  { path: 'negativePrompt', label: 'Negative prompt', kind: 'textarea', group: 'Prompt' },
  { path: 'seed', label: 'Seed', kind: 'number', group: 'Sampling' },
  { path: 'strength', label: 'Strength', kind: 'number', group: 'Sampling', step: 0.05, hint: 'how far from the source frame (1 = from noise)' },
  { path: 'steps', label: 'Steps', kind: 'number', group: 'Sampling' },
  { path: 'cfg', label: 'CFG scale', kind: 'number', group: 'Sampling', step: 0.5 },
  { path: 'sampler', label: 'Sampler', kind: 'select', group: 'Sampling', hidden: ['euler-ancestral'], hint: 'deterministic samplers: the cross-frame constraints need every step to add no fresh noise (ancestral samplers do)' },
  { path: 'controlnet.type', label: 'ControlNet', kind: 'select', group: 'ControlNet' },
  { path: 'controlnet.strength', label: 'ControlNet strength', kind: 'number', group: 'ControlNet', step: 0.05 },
  { path: 'controlnet.cannyLow', label: 'Canny low', kind: 'number', group: 'ControlNet' },
  { path: 'controlnet.cannyHigh', label: 'Canny high', kind: 'number', group: 'ControlNet' },
  { path: 'constraints.crossFrame', label: 'Cross-frame attention', kind: 'window', group: 'Advanced', step: 0.05, hint: 'share of the sampling steps (start–end)' },
  { path: 'constraints.shape', label: 'Shape-aware fusion', kind: 'window', group: 'Advanced', step: 0.05 },
  { path: 'constraints.pixel', label: 'Pixel-aware fusion', kind: 'window', group: 'Advanced', step: 0.05 },
  { path: 'constraints.color', label: 'Colour adjustment', kind: 'window', group: 'Advanced', step: 0.05 },
  { path: 'constraints.fusionStrength', label: 'Fusion strength', kind: 'number', group: 'Advanced', step: 0.05 },
  { path: 'constraints.detailLevel', label: 'Detail level', kind: 'number', group: 'Advanced', step: 0.05 },
  { path: 'constraints.smoothBoundary', label: 'Smooth fusion boundary', kind: 'checkbox', group: 'Advanced' },
  { path: 'constraints.looseAttention', label: 'Loose cross-frame attention', kind: 'checkbox', group: 'Advanced' },
  { path: 'constraints.updatePreviousEvery', label: 'Update previous-frame cache every N keyframes', kind: 'number', group: 'Advanced' },
  { path: 'constraints.fullFirstPass', label: 'Finish pass 1 before the pixel composite', kind: 'checkbox', group: 'Advanced', hint: 'the method\'s literal order: about 1.5× the UNet steps of a later keyframe' },
  { path: 'colorPreservation', label: 'Preserve source colours', kind: 'checkbox', group: 'Advanced' },
];

/** A declared field with its range or choices from the project schema. */
function fromSchema(f: FieldDeclaration): Field {
  if (f.kind === 'number' || f.kind === 'window') {
    const r = numberRange(f.kind === 'window' ? `${f.path}.start` : f.path);
    return { ...f, min: r.min, max: r.max, integer: r.integer, step: r.integer ? 1 : f.step };
  }
  if (f.kind === 'select') return { ...f, options: settingChoices(f.path).filter((o) => !f.hidden?.includes(o)) };
  return f;
}

export const FIELDS: readonly Field[] = DECLARED.map(fromSchema);

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
