// `rerender fresco`: `rerender render --mode fresco` under its own name (docs/METHOD.md §6), for scripts
// that render a project in FRESCO mode whatever its saved method.
import { acceptedOptions, type Command } from '../command';
import { FRESCO_FLAGS, FRESCO_USAGE, renderCommand, runRender } from './render';

export const frescoCommand: Command = {
  name: 'fresco',
  positionals: 1,
  summary: 'render keyframes in FRESCO mode (batches with spatial-temporal correspondence)',
  usage: `
usage: rerender fresco <project-file> [--frame N | --all] [options] [--models-dir <dir>] [--tokenizer <dir>] [--detector <file.onnx>] [--json]

  the same as \`rerender render --mode fresco\` (see \`rerender render --help\` for the other options)
${FRESCO_USAGE}`,
  flags: ['all', 'json', ...FRESCO_FLAGS],
  moreOptions: [...acceptedOptions(renderCommand)],
  run: (args, ctx) => runRender(args, ctx, 'fresco'),
};
