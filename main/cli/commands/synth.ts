// `rerender synth`: one guided patch-based synthesis from image files, with EbSynth-style arguments so
// results can be compared with that tool on identical inputs.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, ParsedArgs } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { readRgb, writePng } from '../../engine/media/image-files';
import { requireOutputFileName, writeFileAtomic } from '../../engine/fs/atomic';
import { synthesize, SYNTHESIS_DEFAULTS, type Guide, type StyleLayer } from '../../../native-models/src/synthesis';
import type { FloatImage } from '../../../native-models/src/image';

const usage = `
usage: rerender synth --style <png> [--weight w] --guide <source.png> <target.png> [--weight w] ...
                      --out <png> [--error <file>] [--uniformity 3500] [--patchsize 5]
                      [--pyramidlevels -1] [--searchvoteiters 6] [--patchmatchiters 4] [--seed N]
                      [--threads N] [--json]

Synthesises the target described by the guides' target images in the style of the --style image.
A --weight applies to the --style or --guide right before it (default 1, split evenly over the
image's channels). Images are read as 8-bit RGB (grey is expanded, which splits its weight the same way).

--error <file>  per-pixel final patch error (weighted sum of squared differences over the patch,
                0-255 units): a .pfm file (Portable Float Map, one channel) when the name ends in
                .pfm, otherwise raw little-endian float32, row-major from the top row, width x height.
`;

interface Layers { styles: Array<StyleLayer & { file: string }>; guides: Array<Guide & { files: string[] }> }

/** Walks the options in order so each --weight lands on the --style or --guide before it. */
async function readLayers(args: ParsedArgs): Promise<Layers> {
  const styles: Layers['styles'] = [];
  const guides: Layers['guides'] = [];
  let last: { weight?: number } | undefined;
  for (const item of args.sequence) {
    if (item.name === 'style') {
      if (item.values.length !== 1) throw new UserError('--style takes one image file');
      const style: Layers['styles'][number] = { file: item.values[0], image: await readRgb(item.values[0]) };
      styles.push(style);
      last = style;
    } else if (item.name === 'guide') {
      if (item.values.length !== 2) throw new UserError(`--guide takes two image files (source and target), got ${item.values.length}`);
      const [source, target] = await Promise.all(item.values.map(readRgb));
      const guide: Layers['guides'][number] = { name: `${path.basename(item.values[0])} → ${path.basename(item.values[1])}`, files: item.values, source, target };
      guides.push(guide);
      last = guide;
    } else if (item.name === 'weight') {
      if (!last) throw new UserError('--weight must follow the --style or --guide it applies to');
      const w = Number(item.values[0]);
      if (!Number.isFinite(w) || w < 0) throw new UserError(`--weight expects a number >= 0, got "${item.values[0]}"`);
      last.weight = w;
    } else if (item.name === undefined) {
      throw new UserError(`unexpected argument "${item.values[0]}" (see rerender synth --help)`);
    }
  }
  if (styles.length === 0) throw new UserError('missing --style <png>');
  return { styles, guides };
}

/** Portable Float Map, one channel: rows stored bottom to top, negative scale = little-endian. */
function encodePfm(map: FloatImage): Buffer {
  const header = Buffer.from(`Pf\n${map.width} ${map.height}\n-1.0\n`, 'ascii');
  const body = Buffer.alloc(map.width * map.height * 4);
  for (let y = 0; y < map.height; y++)
    for (let x = 0; x < map.width; x++) body.writeFloatLE(map.data[y * map.width + x], ((map.height - 1 - y) * map.width + x) * 4);
  return Buffer.concat([header, body]);
}

function encodeRawFloat(map: FloatImage): Buffer {
  const body = Buffer.alloc(map.data.length * 4);
  map.data.forEach((v, i) => body.writeFloatLE(v, i * 4));
  return body;
}

export const synthCommand: Command = {
  name: 'synth',
  positionals: 0,
  summary: 'synthesise one image from a styled exemplar and guides (EbSynth-style arguments)',
  usage,
  multi: ['guide'],
  async run(args, ctx) {
    const out = args.requireString('out');
    const errorFile = args.string('error');
    requireOutputFileName(out, '--out');
    if (errorFile) requireOutputFileName(errorFile, '--error');
    const { styles, guides } = await readLayers(args);
    for (const g of guides) {
      if (g.source.width !== styles[0].image.width || g.source.height !== styles[0].image.height)
        throw new UserError(`the guide source is ${g.source.width}x${g.source.height}, but the style is ${styles[0].image.width}x${styles[0].image.height}`, g.files[0]);
      if (g.target.width !== guides[0].target.width || g.target.height !== guides[0].target.height)
        throw new UserError(`the guide target is ${g.target.width}x${g.target.height}, but the first guide target is ${guides[0].target.width}x${guides[0].target.height}`, g.files[1]);
    }
    for (const s of styles.slice(1))
      if (s.image.width !== styles[0].image.width || s.image.height !== styles[0].image.height)
        throw new UserError(`style images differ in size (${s.image.width}x${s.image.height} vs ${styles[0].image.width}x${styles[0].image.height})`, s.file);
    const started = performance.now();
    const result = await synthesize({
      styles,
      guides,
      uniformity: args.number('uniformity') ?? SYNTHESIS_DEFAULTS.uniformity,
      patchSize: args.int('patchsize') ?? SYNTHESIS_DEFAULTS.patchSize,
      pyramidLevels: args.int('pyramidlevels') ?? SYNTHESIS_DEFAULTS.pyramidLevels,
      searchVoteIters: args.int('searchvoteiters') ?? SYNTHESIS_DEFAULTS.searchVoteIters,
      patchMatchIters: args.int('patchmatchiters') ?? SYNTHESIS_DEFAULTS.patchMatchIters,
      seed: args.int('seed') ?? SYNTHESIS_DEFAULTS.seed,
      threads: args.int('threads'),
    });
    const ms = performance.now() - started;
    // Several style images come out as one image with their channels side by side: write the first
    // one's RGB, which is what EbSynth's single --style case gives.
    const rgb = result.image.channels === 3 ? result.image : {
      ...result.image, channels: 3,
      data: Uint8Array.from({ length: result.image.width * result.image.height * 3 }, (_, i) => result.image.data[Math.floor(i / 3) * result.image.channels + (i % 3)]),
    };
    await fs.promises.mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await writePng(out, rgb);
    if (errorFile) await writeFileAtomic(errorFile, errorFile.toLowerCase().endsWith('.pfm') ? encodePfm(result.error) : encodeRawFloat(result.error));
    const meanError = result.error.data.reduce((s, v) => s + v, 0) / result.error.data.length;
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, out, error: errorFile, width: rgb.width, height: rgb.height, ms: Math.round(ms), meanError }));
    else ctx.out(`${out}: ${rgb.width}x${rgb.height}, ${Math.round(ms)} ms, mean patch error ${meanError.toFixed(1)}`);
  },
};
