// Every CLI command, in the order `rerender --help` lists them (the order of the work). Add a command
// here and nowhere else.
import type { Command } from '../command';
import { newCommand, infoCommand, keyframesCommand, importKeyframeCommand, exportCommand, relinkCommand } from './project-commands';
import { renderCommand } from './render';
import { frescoCommand } from './fresco';
import { propagateCommand } from './propagate';
import { metricsCommand } from './metrics';
import { flowCommand } from './flow';
import { synthCommand } from './synth';
import { modelsCommand } from './models';
import { fixturesCheckCommand } from './fixtures-check';
import { serveCommand } from './serve';
import { farmCommand } from './farm';
import { cacheCommand } from './cache';

export const commands: Command[] = [
  newCommand,
  infoCommand,
  keyframesCommand,
  importKeyframeCommand,
  renderCommand,
  frescoCommand,
  propagateCommand,
  exportCommand,
  relinkCommand,
  metricsCommand,
  flowCommand,
  synthCommand,
  modelsCommand,
  fixturesCheckCommand,
  serveCommand,
  farmCommand,
  cacheCommand,
];
