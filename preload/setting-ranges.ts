// A setting's valid values, read from the project schema (render settings by default, or another part
// such as FRESCO's) rather than re-typed: the inspector's fields and their checks use these, so the
// editor refuses exactly what loading refuses.
import type { z } from 'zod';
import { renderParams } from './project-schema';

export interface NumberRange {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer: boolean;
}

/** The schema of a render setting at a dotted path ("steps", "controlnet.strength", "constraints.pixel.start"). */
export function settingSchema(path: string, root: z.ZodType = renderParams): z.ZodType {
  let schema: z.ZodType = root;
  for (const part of path.split('.')) {
    const shape = (schema as { shape?: Record<string, z.ZodType> }).shape;
    if (!shape || !(part in shape)) throw new Error(`"${path}" is not a setting of the project schema`);
    schema = shape[part];
  }
  return schema;
}

/** A numeric setting's range. Throws when the setting is not a bounded number. */
export function numberRange(path: string, root: z.ZodType = renderParams): NumberRange {
  const s = settingSchema(path, root) as Partial<z.ZodNumber>;
  const min = s.minValue, max = s.maxValue;
  if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max)) {
    throw new Error(`render setting "${path}" is not a bounded number in the project schema`);
  }
  return { min, max, integer: s.isInt === true };
}

/** A setting's choices (an enum of the schema). Throws when it is not one. */
export function settingChoices(path: string, root: z.ZodType = renderParams): readonly string[] {
  const s = settingSchema(path, root) as Partial<z.ZodEnum>;
  if (!Array.isArray(s.options)) throw new Error(`render setting "${path}" is not a choice in the project schema`);
  return s.options as readonly string[];
}
