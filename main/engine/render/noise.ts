// Seeded Gaussian noise that is the same on every platform: the same seed gives the same initial latent
// on Windows, macOS and Linux, in the app, the CLI and the tests.
//
// Element i of the stream for seed s is a pure function of (s, i): two 32-bit hashes of the counter give
// two uniforms in (0, 1), and the Box–Muller transform turns them into one normal sample. Only integer
// arithmetic (Math.imul, shifts) and Math.log / Math.sqrt / Math.cos are used; V8 implements the latter
// with its own portable fdlibm port, so the bits do not depend on the C library or the CPU. Because it is
// counter-based, noise for a latent of any shape is a prefix of the same stream (row-major, C·h·w).

/** A 32-bit integer mixer (xor-shift-multiply rounds); every input bit affects every output bit. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Uniform in the open interval (0, 1) from the pair (key, counter). */
function uniform(key: number, counter: number): number {
  const h = mix32(mix32(counter ^ 0x9e3779b9) ^ key);
  return (h + 0.5) / 4294967296;
}

/**
 * `count` standard normal samples for `seed` (0 … 2³²−1) from stream `stream` (0 for the initial latent;
 * other streams give independent noise for other uses of the same seed).
 */
export function gaussianNoise(seed: number, count: number, stream = 0): Float32Array {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be a whole number from 0 to 4294967295, got ${seed}`);
  const key = mix32(mix32(seed >>> 0) ^ Math.imul(stream + 1, 0x85ebca6b));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u1 = uniform(key, 2 * i);
    const u2 = uniform(key, 2 * i + 1);
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}
