// Every CLI command, in the order `rerender --help` lists them. Add a command here and nowhere else.
import type { Command } from '../command';
import { newCommand, infoCommand, keyframesCommand, importKeyframeCommand, exportCommand } from './project-commands';

export const commands: Command[] = [
  newCommand,
  infoCommand,
  keyframesCommand,
  importKeyframeCommand,
  exportCommand,
];
