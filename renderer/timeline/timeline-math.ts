// Timeline geometry without any drawing: frame ↔ pixel, zoom limits, zoom anchored at the pointer,
// zoom-adaptive ruler ticks, snapping, and the visible range of sorted items (for virtualised drawing).

export interface View { zoom: number; scroll: number; width: number }

export const MAX_ZOOM = 48; // pixels per frame: wide enough to grab single frames

export function frameToX(frame: number, v: View): number {
  return (frame - v.scroll) * v.zoom;
}

export function xToFrame(x: number, v: View): number {
  return v.scroll + x / v.zoom;
}

/** The zoom that shows the whole video in `width` pixels; the timeline never zooms out further. */
export function fitZoom(frameCount: number, width: number): number {
  return Math.min(MAX_ZOOM, width / Math.max(1, frameCount));
}

export function clampView(v: View, frameCount: number): View {
  const zoom = Math.max(fitZoom(frameCount, v.width), Math.min(MAX_ZOOM, v.zoom));
  const maxScroll = Math.max(0, frameCount - v.width / zoom);
  return { ...v, zoom, scroll: Math.max(0, Math.min(maxScroll, v.scroll)) };
}

/** Zooms by `factor` keeping the frame under pixel `x` where it is (ctrl+wheel at the pointer). */
export function zoomAt(v: View, factor: number, x: number, frameCount: number): View {
  const anchor = xToFrame(x, v);
  const zoomed = clampView({ ...v, zoom: v.zoom * factor }, frameCount);
  return clampView({ ...zoomed, scroll: anchor - x / zoomed.zoom }, frameCount);
}

const STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000, 250000, 500000, 1000000];

/**
 * Ruler ticks for the visible range: a labelled major step at least `minLabelPx` apart and a minor
 * step (a fifth or half of it, never below one frame) for the fine marks.
 */
export function rulerTicks(v: View, frameCount: number, minLabelPx = 90): { major: number; minor: number; majors: number[]; minors: number[] } {
  const major = STEPS.find((s) => s * v.zoom >= minLabelPx) ?? STEPS[STEPS.length - 1];
  const minor = major % 5 === 0 && (major / 5) * v.zoom >= 6 ? major / 5 : major % 2 === 0 && (major / 2) * v.zoom >= 6 ? major / 2 : major;
  const first = Math.max(0, Math.floor(v.scroll / minor) * minor);
  const last = Math.min(frameCount - 1, v.scroll + v.width / v.zoom);
  const majors: number[] = [];
  const minors: number[] = [];
  for (let f = first; f <= last; f += minor) (f % major === 0 ? majors : minors).push(f);
  return { major, minor, majors, minors };
}

/**
 * Frames of the thumbnail strip: one thumbnail every `framesPerThumb` frames (a slot no wider than a
 * thumbnail, so the strip has no gaps until single frames are wider), only the visible ones. The step is
 * a power of two, so zooming keeps showing the frames it showed (loaded once) instead of new ones at
 * every wheel step.
 */
export function thumbnailFrames(v: View, frameCount: number, thumbWidth: number): { framesPerThumb: number; frames: number[] } {
  const framesPerThumb = 2 ** Math.max(0, Math.floor(Math.log2(Math.max(1, thumbWidth / v.zoom))));
  const first = Math.floor(Math.max(0, v.scroll) / framesPerThumb) * framesPerThumb;
  const last = Math.min(frameCount - 1, Math.ceil(v.scroll + v.width / v.zoom));
  const frames: number[] = [];
  for (let f = first; f <= last; f += framesPerThumb) frames.push(f);
  return { framesPerThumb, frames };
}

/** Index range [lo, hi) of items (sorted by `start`) that overlap frames [from, to]. */
export function visibleRange<T>(items: readonly T[], from: number, to: number, start: (t: T) => number, end: (t: T) => number = start): [number, number] {
  let lo = 0, hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (end(items[mid]) < from) lo = mid + 1; else hi = mid;
  }
  let stop = lo;
  while (stop < items.length && start(items[stop]) <= to) stop++;
  return [lo, stop];
}

/**
 * Where a dragged keyframe lands: whole frames, pulled to a snap target (playhead, other keyframes'
 * neighbours, ruler marks) when within `snapPx` pixels.
 */
export function snapFrame(frame: number, targets: readonly number[], zoom: number, snapPx = 8): number {
  let best = Math.round(frame);
  let bestDist = snapPx / zoom;
  for (const t of targets) {
    const d = Math.abs(t - frame);
    if (d < bestDist) { best = t; bestDist = d; }
  }
  return best;
}

/**
 * Moves a group of keyframes by `delta` frames, clamped to the video so the whole group fits.
 * Answers the applied delta (0 when nothing can move).
 */
export function clampGroupDelta(frames: readonly number[], delta: number, frameCount: number): number {
  if (frames.length === 0) return 0;
  const min = Math.min(...frames), max = Math.max(...frames);
  return Math.max(-min, Math.min(frameCount - 1 - max, delta));
}
