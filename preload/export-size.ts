// The size an export is written at: by default the source's own pixels (display size, square pixels: an
// anamorphic source's pixel aspect is already applied in `source.width/height`) over the part of the
// picture the working frames show, so the picture is neither squeezed nor stuck at the working size.
// Shared by the engine (what is written) and the editor's export dialog (what it says).
import type { Project } from './project-schema';

/** `source` (default), `working` (the frames as rendered), or an explicit size. */
export type ExportSizeChoice = 'source' | 'working' | { width: number; height: number };

export interface ExportSize { width: number; height: number; why: string }

/** Nearest even number, at least 2 (4:2:0 video needs even sides). */
const even = (v: number) => Math.max(2, Math.round(v / 2) * 2);

/**
 * The working frames are the source (after the user's crop) scaled to cover the working size and
 * centre-cropped to its aspect (sides are multiples of 64); the source-size export is that same region at the
 * source's pixel density: a 768×432 source worked at 896×512 (7:4) exports at 756×432, not stretched to 16:9.
 */
export function exportSize(p: Pick<Project, 'source' | 'working'>, choice: ExportSizeChoice = 'source'): ExportSize {
  const { width: ww, height: wh } = p.working;
  if (choice === 'working') return { width: ww, height: wh, why: 'the working size' };
  if (typeof choice === 'object') return { width: choice.width, height: choice.height, why: 'the size chosen' };
  const c = p.working.crop;
  const cw = p.source.width - (c ? c.left + c.right : 0);
  const ch = p.source.height - (c ? c.top + c.bottom : 0);
  const aspect = ww / wh;
  const [w, h] = cw / ch > aspect ? [ch * aspect, ch] : [cw, cw / aspect];
  const cut = Math.round(w) < cw || Math.round(h) < ch;
  return { width: even(w), height: even(h), why: cut ? `the source's pixels (${cw}×${ch}, trimmed to the ${ww}×${wh} working frames' shape)` : `the source's pixels` };
}

/** Parses the CLI's `--size`: `source`, `working` or `WxH` (even sides, 16 to 16384). */
export function parseExportSize(text: string): ExportSizeChoice | undefined {
  if (text === 'source' || text === 'working') return text;
  const m = /^(\d+)[x×](\d+)$/.exec(text);
  if (!m) return undefined;
  const [width, height] = [Number(m[1]), Number(m[2])];
  if (width < 16 || height < 16 || width > 16384 || height > 16384 || width % 2 || height % 2) return undefined;
  return { width, height };
}
