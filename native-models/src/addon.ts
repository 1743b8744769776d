// Loads the C++ addon (optical flow, synthesis, blending) built by `npm install` from native-models/addon.
import path from 'node:path';
import fs from 'node:fs';
import { UserError } from './errors';

let cached: unknown;

/** Locations tried in order: env override, the source tree build, the packaged app's unpacked copy. */
function candidates(): string[] {
  const list: string[] = [];
  if (process.env.RERENDER_NATIVE) list.push(process.env.RERENDER_NATIVE);
  // Works from source (tsx: native-models/src) and from the bundle (dist/<part>/x.js).
  for (const base of [path.join(__dirname, '..'), path.join(__dirname, '..', '..', 'native-models'), path.join(process.cwd(), 'native-models')]) {
    list.push(path.join(base, 'addon', 'build', 'Release', 'rerender_native.node'));
  }
  return list;
}

/**
 * The native engine reports running out of memory as C++ does (std::bad_alloc, turned into a JS error
 * at the binding); the user gets a message that says what happened and what to do instead.
 */
export function describeNativeError(err: unknown): unknown {
  const message = (err as Error)?.message ?? '';
  if (/\bbad_alloc\b|bad_array_new_length|allocation failed/i.test(message)) {
    return new UserError(`the native engine ran out of memory (${message}); use smaller images or fewer threads, or close other programs`);
  }
  return err;
}

/** Every function of the addon, with its errors (thrown or rejected) passed through describeNativeError. */
function guarded(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'function') { out[name] = value; continue; }
    const fn = value as (...args: unknown[]) => unknown;
    out[name] = (...args: unknown[]) => {
      let result: unknown;
      try {
        result = fn(...args);
      } catch (err) {
        throw describeNativeError(err);
      }
      return result instanceof Promise ? result.catch((err) => { throw describeNativeError(err); }) : result;
    };
  }
  return out;
}

/** The addon's functions (errors described, see guarded); typed wrappers live beside the code that uses each. */
export function loadAddon<T = Record<string, unknown>>(): T {
  if (cached) return cached as T;
  const tried = candidates();
  for (const file of tried) {
    if (fs.existsSync(file)) {
      cached = guarded(require(file));
      return cached as T;
    }
  }
  throw new Error(`the native addon is not built (looked in ${tried.join(', ')}); run \`npm rebuild\` in the project folder`);
}
