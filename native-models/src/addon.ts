// Loads the C++ addon (optical flow, synthesis, blending) built by `npm install` from native-models/addon.
import path from 'node:path';
import fs from 'node:fs';

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

/** The raw addon object; typed wrappers live beside the code that uses each function. */
export function loadAddon<T = Record<string, unknown>>(): T {
  if (cached) return cached as T;
  const tried = candidates();
  for (const file of tried) {
    if (fs.existsSync(file)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(file);
      return cached as T;
    }
  }
  throw new Error(`the native addon is not built (looked in ${tried.join(', ')}); run \`npm rebuild\` in the project folder`);
}
