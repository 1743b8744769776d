// Painting the timeline's layers on a canvas context: ruler, thumbnail strip, segment bars, coverage
// strip, flicker strip and keyframe markers (the playhead is an element above them, moved without a repaint). Only what is visible is drawn (a 10,000-frame video costs the
// same per frame as a short one).
import type { CallResult, Keyframe, SegmentState } from '../../preload/api';
import { frameToX, rulerTicks, thumbnailFrames, visibleRange, type View } from './timeline-math';

export const LANES = { ruler: 24, thumbs: 44, keys: 46, segments: 10, markers: 28, coverage: 24, flicker: 22, scrollbar: 10 };
export const TOP = {
  ruler: 0,
  thumbs: LANES.ruler,
  keys: LANES.ruler + LANES.thumbs,
  segments: LANES.ruler + LANES.thumbs + LANES.keys,
  markers: LANES.ruler + LANES.thumbs + LANES.keys + LANES.segments,
  coverage: LANES.ruler + LANES.thumbs + LANES.keys + LANES.segments + LANES.markers,
  flicker: LANES.ruler + LANES.thumbs + LANES.keys + LANES.segments + LANES.markers + LANES.coverage,
};
export const TIMELINE_HEIGHT = TOP.flicker + LANES.flicker + LANES.scrollbar;

export const SEGMENT_COLOURS: Record<SegmentState['status'], string> = {
  'not-rendered': '#3a4050', partial: '#8a7a2e', stale: '#d08c2f', rendering: '#3d8bfd', done: '#2fa36b', failed: '#d9534f',
};
export const KEYFRAME_COLOURS: Record<Keyframe['status'], string> = {
  empty: '#8b93a7', rendering: '#3d8bfd', done: '#2fa36b', stale: '#d08c2f', failed: '#d9534f',
};

export function paintRuler(c: CanvasRenderingContext2D, v: View, frameCount: number, fps: number): void {
  c.fillStyle = '#1b1e25';
  c.fillRect(0, TOP.ruler, v.width, LANES.ruler);
  const t = rulerTicks(v, frameCount);
  c.strokeStyle = '#4a5163';
  c.beginPath();
  for (const f of t.minors) {
    const x = Math.round(frameToX(f, v)) + 0.5;
    c.moveTo(x, LANES.ruler - 6);
    c.lineTo(x, LANES.ruler);
  }
  c.stroke();
  c.strokeStyle = '#8b93a7';
  c.fillStyle = '#c4cad8';
  c.font = '10px system-ui, sans-serif';
  c.beginPath();
  for (const f of t.majors) {
    const x = Math.round(frameToX(f, v)) + 0.5;
    c.moveTo(x, 4);
    c.lineTo(x, LANES.ruler);
    const seconds = f / fps;
    const time = seconds >= 60 ? `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(0).padStart(2, '0')}` : `${seconds.toFixed(seconds < 10 && t.major < fps ? 1 : 0)}s`;
    const label = `${f}  ${time}`;
    // A label that would run past the right edge (the last one) goes on the left of its tick, whole.
    const tw = c.measureText(label).width;
    c.fillText(label, x + 3 + tw > v.width ? x - 3 - tw : x + 3, 12);
  }
  c.stroke();
}

export function paintThumbnails(c: CanvasRenderingContext2D, v: View, frameCount: number, aspect: number, image: (frame: number) => ImageBitmap | undefined): void {
  c.fillStyle = '#111318';
  c.fillRect(0, TOP.thumbs, v.width, LANES.thumbs);
  const thumbWidth = LANES.thumbs * aspect;
  const { framesPerThumb, frames } = thumbnailFrames(v, frameCount, thumbWidth);
  const end = frameToX(frameCount, v);
  for (const f of frames) {
    const x = frameToX(f, v);
    // The last slot ends with the video (the picture's centre when narrower), not cut at the edge.
    const w = Math.min(thumbWidth, framesPerThumb * v.zoom, end - x);
    if (w <= 0) continue;
    const img = image(f);
    if (img) {
      const sw = img.width * (w / thumbWidth); // centre of the picture when the slot is narrower
      c.drawImage(img, (img.width - sw) / 2, 0, sw, img.height, x, TOP.thumbs, w, LANES.thumbs);
    }
    else {
      c.fillStyle = '#20242d';
      c.fillRect(x, TOP.thumbs, w - 1, LANES.thumbs);
    }
  }
}

/**
 * Left edge of a keyframe's thumbnail `w` wide: centred on its frame, but kept inside the video's extent,
 * so the first and last keyframes' thumbnails are whole at the timeline's edges (painting and hit-testing).
 */
export function keyThumbX(frame: number, w: number, v: View, frameCount: number): number {
  const x = frameToX(frame + 0.5, v) - w / 2;
  const lo = frameToX(0, v), hi = frameToX(frameCount, v) - w;
  return hi < lo ? x : Math.max(lo, Math.min(hi, x));
}

/**
 * The keyframe lane: each keyframe's image (rendered, imported or painted) as a thumbnail above its
 * marker, framed in its status colour, with a badge for stale (!) and failed (×) and a letter for imported
 * (I) and painted (P) ones; an empty keyframe is a dashed frame. Where keyframes are closer than a
 * thumbnail is wide, the ones that fit are drawn (the selected first) and the markers show every one.
 * Returns the frames of the keyframes drawn (tests and the tooltip use them).
 */
export function paintKeyframeImages(c: CanvasRenderingContext2D, v: View, keyframes: readonly Keyframe[], frameCount: number, aspect: number, selected: ReadonlySet<string>, image: (k: Keyframe) => ImageBitmap | undefined): number[] {
  c.fillStyle = '#14161b';
  c.fillRect(0, TOP.keys, v.width, LANES.keys);
  const h = LANES.keys - 8, w = Math.max(12, Math.min(h * aspect, 120));
  const y = TOP.keys + 4;
  const [lo, hi] = visibleRange(keyframes, v.scroll - w / v.zoom, v.scroll + (v.width + w) / v.zoom, (k) => k.frame);
  // Selected keyframes claim their place first; the others fill the gaps left to right.
  const order: number[] = [];
  for (let i = lo; i < hi; i++) if (selected.has(keyframes[i].id)) order.push(i);
  const taken: Array<[number, number]> = order.map((i) => { const x = keyThumbX(keyframes[i].frame, w, v, frameCount); return [x, x + w]; });
  let right = -Infinity;
  for (let i = lo; i < hi; i++) {
    if (selected.has(keyframes[i].id)) continue;
    const x = keyThumbX(keyframes[i].frame, w, v, frameCount);
    if (x < right + 3 || taken.some(([a, b]) => x < b + 3 && x + w > a - 3)) continue;
    right = x + w;
    order.push(i);
  }
  const drawn: number[] = [];
  for (const i of order) {
    const k = keyframes[i];
    const x = Math.round(keyThumbX(k.frame, w, v, frameCount));
    const colour = KEYFRAME_COLOURS[k.status];
    const img = k.image ? image(k) : undefined;
    c.fillStyle = '#0b0c0f';
    c.fillRect(x, y, w, h);
    if (img) c.drawImage(img, x, y, w, h);
    else if (!k.image) {
      c.fillStyle = '#5b6273';
      c.font = '9px system-ui, sans-serif';
      if (w >= 34) c.fillText('empty', x + w / 2 - 12, y + h / 2 + 3);
    }
    c.lineWidth = selected.has(k.id) ? 3 : 2;
    c.strokeStyle = selected.has(k.id) ? '#ffffff' : colour;
    if (!k.image) c.setLineDash([3, 2]);
    c.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    c.setLineDash([]);
    c.lineWidth = 1;
    if (selected.has(k.id)) { c.strokeStyle = colour; c.strokeRect(x + 2.5, y + 2.5, w - 5, h - 5); }
    // Badges: status where it needs attention, and how the image was made when not by diffusion.
    const badge = k.status === 'stale' ? '!' : k.status === 'failed' ? '×' : k.status === 'rendering' ? '…' : '';
    if (badge) {
      c.fillStyle = colour;
      c.fillRect(x + w - 12, y, 12, 12);
      c.fillStyle = '#0b0c0f';
      c.font = 'bold 10px system-ui, sans-serif';
      c.fillText(badge, x + w - 9, y + 10);
    }
    if (k.source !== 'diffusion') {
      c.fillStyle = 'rgba(11,12,15,0.8)';
      c.fillRect(x + 1, y + h - 12, 11, 11);
      c.fillStyle = '#e6e9f0';
      c.font = 'bold 9px system-ui, sans-serif';
      c.fillText(k.source === 'imported' ? 'I' : 'P', x + 4, y + h - 3);
    }
    drawn.push(k.frame);
  }
  return drawn;
}

export function paintSegments(c: CanvasRenderingContext2D, v: View, segments: readonly SegmentState[]): void {
  c.fillStyle = '#15171c';
  c.fillRect(0, TOP.segments, v.width, LANES.segments);
  const [lo, hi] = visibleRange(segments, v.scroll, v.scroll + v.width / v.zoom, (s) => s.start, (s) => s.end);
  for (let i = lo; i < hi; i++) {
    const s = segments[i];
    const x0 = frameToX(s.start, v), x1 = frameToX(s.end + 1, v);
    const w = Math.max(1, x1 - x0 - 1);
    if (s.status === 'rendering' || s.status === 'partial') {
      // Frames done so far fill the bar from the left while it propagates.
      c.fillStyle = SEGMENT_COLOURS['not-rendered'];
      c.fillRect(x0, TOP.segments + 2, w, LANES.segments - 4);
      c.fillStyle = SEGMENT_COLOURS[s.status];
      c.fillRect(x0, TOP.segments + 2, Math.max(1, w * Math.min(1, s.framesDone / (s.end - s.start + 1))), LANES.segments - 4);
      continue;
    }
    c.fillStyle = SEGMENT_COLOURS[s.status];
    c.fillRect(x0, TOP.segments + 2, w, LANES.segments - 4);
  }
}

/**
 * Warp error per frame as bars (largest value per pixel column when zoomed out); without a measurement of the
 * output as it is now, what to do (`propagated`: there are propagated frames to measure).
 */
export function paintFlicker(c: CanvasRenderingContext2D, v: View, values: readonly number[] | null, propagated = false): void {
  c.fillStyle = '#13151a';
  c.fillRect(0, TOP.flicker, v.width, LANES.flicker);
  if (!values || values.length === 0) {
    c.fillStyle = '#5b6273';
    c.font = '10px system-ui, sans-serif';
    c.fillText(propagated ? 'flicker: not measured for these frames yet: Measure flicker (the button at the right)' : 'flicker: propagate, then Measure flicker (the button at the right)', 6, TOP.flicker + 14);
    return;
  }
  let max = 0;
  for (const x of values) if (x > max) max = x;
  if (max <= 0) return;
  c.fillStyle = '#c86bd6';
  const columns = Math.ceil(v.width);
  for (let px = 0; px < columns; px++) {
    const f0 = Math.floor(v.scroll + px / v.zoom), f1 = Math.max(f0 + 1, Math.floor(v.scroll + (px + 1) / v.zoom));
    let m = 0;
    for (let f = f0; f < f1 && f < values.length; f++) if (values[f] > m) m = values[f];
    const h = (m / max) * (LANES.flicker - 4);
    if (h > 0) c.fillRect(px, TOP.flicker + LANES.flicker - 2 - h, 1, h);
  }
}

export const COVERAGE_COLOURS = { error: '#e0803a', uncovered: '#d94fd9', worst: '#ffd84a', none: '#1c1f26' };

/**
 * How badly each frame is covered by its keyframes: the synthesis error as orange bars (relative to the
 * worst frame; the largest per pixel column when zoomed out), pixels no keyframe shows as a magenta band
 * along the top (stronger for a larger share), and a yellow flag at each of the worst frames (where "Suggest a keyframe here"
 * adds one). Frames with no figures (keyframes, not propagated) stay dark.
 */
export function paintCoverage(c: CanvasRenderingContext2D, v: View, coverage: CallResult<'metrics.coverage'> | null): void {
  const top = TOP.coverage, h = LANES.coverage;
  c.fillStyle = '#12141a';
  c.fillRect(0, top, v.width, h);
  const { error, uncovered, worst } = coverage ?? { error: [], uncovered: [], worst: [] };
  let max = 0;
  for (const e of error) if (e !== null && e > max) max = e;
  if (!coverage || max <= 0) {
    c.fillStyle = '#5b6273';
    c.font = '10px system-ui, sans-serif';
    c.fillText('coverage: propagate to see where the keyframes cover the video badly', 6, top + 15);
    return;
  }
  const columns = Math.ceil(v.width);
  for (let px = 0; px < columns; px++) {
    const f0 = Math.floor(v.scroll + px / v.zoom), f1 = Math.max(f0 + 1, Math.floor(v.scroll + (px + 1) / v.zoom));
    let e = -1, u = 0;
    for (let f = f0; f < f1 && f < error.length; f++) {
      const x = error[f];
      if (x !== null && x > e) e = x;
      const y = uncovered[f];
      if (y !== null && y > u) u = y;
    }
    if (e < 0) continue;
    const eh = (e / max) * (h - 8);
    c.fillStyle = COVERAGE_COLOURS.error;
    if (eh > 0) c.fillRect(px, top + h - 2 - eh, 1, eh);
    if (u > 0) {
      c.globalAlpha = Math.min(1, 0.25 + u * 3); // a quarter of the picture unseen is full strength
      c.fillStyle = COVERAGE_COLOURS.uncovered;
      c.fillRect(px, top + 1, 1, 5);
      c.globalAlpha = 1;
    }
  }
  c.fillStyle = COVERAGE_COLOURS.worst;
  c.strokeStyle = '#0b0c0f';
  for (const f of worst) {
    const x = frameToX(f + 0.5, v);
    if (x < -8 || x > v.width + 8) continue;
    c.beginPath();
    c.moveTo(x - 5, top + 1);
    c.lineTo(x + 5, top + 1);
    c.lineTo(x, top + 9);
    c.closePath();
    c.fill();
    c.stroke();
    c.fillRect(Math.round(x), top + 1, 1, h - 2);
  }
}

function diamond(c: CanvasRenderingContext2D, x: number, y: number, r: number): void {
  c.beginPath();
  c.moveTo(x, y - r);
  c.lineTo(x + r, y);
  c.lineTo(x, y + r);
  c.lineTo(x - r, y);
  c.closePath();
}

export interface MarkerPaint {
  keyframes: readonly Keyframe[];
  selected: ReadonlySet<string>;
  /** While dragging: where the dragged keyframes would land. */
  dragged?: ReadonlyMap<string, number>;
  suggestion: readonly number[] | null;
  box?: { x0: number; x1: number };
}

export const MARKER_RADIUS = 7;

export function paintMarkers(c: CanvasRenderingContext2D, v: View, m: MarkerPaint): void {
  c.fillStyle = '#171a20';
  c.fillRect(0, TOP.markers, v.width, LANES.markers);
  const y = TOP.markers + LANES.markers / 2;
  const to = v.scroll + v.width / v.zoom;
  if (m.suggestion) {
    c.strokeStyle = '#e6c84f';
    c.setLineDash([3, 3]);
    const [lo, hi] = visibleRange(m.suggestion, v.scroll - 1, to + 1, (f) => f);
    c.beginPath();
    for (let i = lo; i < hi; i++) {
      const x = Math.round(frameToX(m.suggestion[i] + 0.5, v)) + 0.5;
      c.moveTo(x, TOP.markers);
      c.lineTo(x, TOP.markers + LANES.markers);
    }
    c.stroke();
    c.setLineDash([]);
  }
  const [lo, hi] = visibleRange(m.keyframes, v.scroll - 1, to + 1, (k) => k.frame);
  for (let i = lo; i < hi; i++) {
    const k = m.keyframes[i];
    const moved = m.dragged?.get(k.id);
    const x = frameToX((moved ?? k.frame) + 0.5, v);
    const sel = m.selected.has(k.id);
    diamond(c, x, y, sel ? MARKER_RADIUS + 1 : MARKER_RADIUS);
    c.fillStyle = KEYFRAME_COLOURS[k.status];
    c.globalAlpha = moved !== undefined ? 0.7 : 1;
    c.fill();
    c.globalAlpha = 1;
    c.lineWidth = sel ? 2 : 1;
    c.strokeStyle = sel ? '#ffffff' : '#0c0d10';
    c.stroke();
    c.lineWidth = 1;
  }
  if (m.box) {
    c.fillStyle = 'rgba(61,139,253,0.18)';
    c.strokeStyle = '#3d8bfd';
    c.fillRect(Math.min(m.box.x0, m.box.x1), TOP.markers + 1, Math.abs(m.box.x1 - m.box.x0), LANES.markers - 2);
    c.strokeRect(Math.min(m.box.x0, m.box.x1) + 0.5, TOP.markers + 1.5, Math.abs(m.box.x1 - m.box.x0), LANES.markers - 3);
  }
}

export function paintScrollbar(c: CanvasRenderingContext2D, v: View, frameCount: number, height: number): { x: number; w: number } {
  const y = height - LANES.scrollbar;
  c.fillStyle = '#101216';
  c.fillRect(0, y, v.width, LANES.scrollbar);
  const visible = v.width / v.zoom;
  const w = Math.max(24, (visible / Math.max(1, frameCount)) * v.width);
  const x = frameCount > visible ? (v.scroll / (frameCount - visible)) * (v.width - w) : 0;
  c.fillStyle = '#3b4252';
  c.fillRect(x, y + 2, Math.min(w, v.width), LANES.scrollbar - 4);
  return { x, w };
}
