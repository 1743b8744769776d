// Every CLI command, in the order `rerender --help` lists them. Add a command here and nowhere else.
import type { Command } from '../command';

export const commands: Command[] = [];
