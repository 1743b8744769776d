// The main window's size, position and maximised state, saved on close and restored on start only
// when it still fits on one of the current displays. Plain module (no electron import).
import fs from 'node:fs';
import { z } from 'zod';

const windowState = z.object({
  x: z.number().int(), y: z.number().int(),
  width: z.number().int().min(400).max(20000), height: z.number().int().min(300).max(20000),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof windowState>;

export interface Rect { x: number; y: number; width: number; height: number }

export const DEFAULT_WINDOW: Omit<WindowState, 'x' | 'y'> = { width: 1440, height: 900, maximized: false };

/** The saved state when it is readable and at least partly on a display; otherwise undefined. */
export function restoreWindowState(file: string, displays: readonly Rect[]): WindowState | undefined {
  let parsed;
  try {
    parsed = windowState.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const s = parsed.data;
  const visible = displays.some((d) => s.x < d.x + d.width - 50 && s.x + s.width > d.x + 50 && s.y >= d.y - 10 && s.y < d.y + d.height - 50);
  return visible ? s : undefined;
}

export function saveWindowState(file: string, state: WindowState): void {
  try {
    fs.writeFileSync(file, JSON.stringify(state));
  } catch { /* losing the window position is not worth an error */ }
}
