// Every CLI command, in the order `rerender --help` lists them. Add a command here and nowhere else.
import type { Command } from '../command';
import { propagateCommand } from './propagate';
import { newCommand, infoCommand, keyframesCommand, importKeyframeCommand, exportCommand } from './project-commands';
import { fixturesCheckCommand } from './fixtures-check';
import { modelsCommand } from './models';
import { serveCommand } from './serve';
import { flowCommand } from './flow';
import { metricsCommand } from './metrics';
import { synthCommand } from './synth';
import { renderCommand } from './render';
import { frescoCommand } from './fresco';

export const commands: Command[] = [
  newCommand,
  infoCommand,
  keyframesCommand,
  importKeyframeCommand,
  exportCommand,
  propagateCommand,
  fixturesCheckCommand,
  modelsCommand,
  serveCommand,
  flowCommand,
  metricsCommand,
  synthCommand,
  renderCommand,
  frescoCommand,
];
