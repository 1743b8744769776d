// The timeline: ruler, thumbnails, keyframe images, segment bars, keyframe markers, coverage and flicker
// strips, playhead. Two canvases: the video's lanes (repainted when the view or the project's state
// changes) and the keyframe lanes (also on selection and drags); each is repainted at most once per
// animation frame, only for the visible range, and the playhead is an element moved without repainting
// either. Pointer input is handled on the wrapper (scrub, select, shift-multi-select, box-select, drag
// with snapping, ctrl+wheel zoom at the pointer). The coverage and flicker strips' buttons are in a
// gutter right of the lanes, so they hide none of the strips' frames or flags.
import { useEffect, useMemo, useRef, useState } from 'react';
import { mediaUrl } from '../media-url';
import { call, clampScroll, editor, receiveProject, setFrame, useEditor } from '../store';
import { ImageCache } from '../image-cache';
import { clampGroupDelta, clampView, fitZoom, rulerTicks, snapFrame, xToFrame, zoomAt, frameToX, type View } from './timeline-math';
import { LANES, MARKER_RADIUS, TIMELINE_HEIGHT, TOP, keyThumbX, paintCoverage, paintFlicker, paintKeyframeImages, paintMarkers, paintRuler, paintScrollbar, paintSegments, paintThumbnails } from './timeline-paint';
import { describeCoverage, perform, shortcutOf } from '../actions';

type Drag =
  | { kind: 'scrub' }
  | { kind: 'scrollbar'; startX: number; startScroll: number }
  | { kind: 'markers'; startX: number; anchorId: string; origin: Map<string, number>; moved: boolean }
  | { kind: 'box'; x0: number; additive: boolean };

export function Timeline() {
  const project = useEditor((s) => s.project);
  const zoom = useEditor((s) => s.zoom);
  const scroll = useEditor((s) => s.scroll);
  const width = useEditor((s) => s.timelineWidth);
  const frame = useEditor((s) => s.frame);
  const selection = useEditor((s) => s.selection);
  const suggestion = useEditor((s) => s.suggestion);
  const flicker = useEditor((s) => s.flicker);
  const coverage = useEditor((s) => s.coverage);
  const wrapper = useRef<HTMLDivElement>(null);
  const videoCanvas = useRef<HTMLCanvasElement>(null);
  const keysCanvas = useRef<HTMLCanvasElement>(null);
  /** The paints with this render's state (assigned each render), and which canvases wait for the next animation frame. */
  const paint = useRef({ video: () => undefined as void, keys: () => undefined as void });
  const painter = useMemo(() => {
    const dirty = { video: false, keys: false };
    let raf = 0;
    return (which: 'video' | 'keys') => {
      dirty[which] = true;
      if (raf) return;
      raf = requestAnimationFrame(() => {
        raf = 0;
        if (dirty.video) { dirty.video = false; paint.current.video(); }
        if (dirty.keys) { dirty.keys = false; paint.current.keys(); }
      });
    };
  }, []);
  /** Frames of the keyframes whose thumbnails the keyframe lane drew last (for clicks on them). */
  const keyThumbs = useRef<number[]>([]);
  const measuring = useEditor((s) => Object.values(s.jobs).some((j) => j.kind === 'measure' && (j.status === 'running' || j.status === 'queued')));
  const [drag, setDrag] = useState<Drag | null>(null);
  const [dragged, setDragged] = useState<Map<string, number> | undefined>();
  const [boxX, setBoxX] = useState<number | null>(null);
  const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
  // Decoded at the height they are drawn (in device pixels): small to keep, nothing to scale per paint.
  const thumbs = useMemo(() => new ImageCache({ limit: 600, height: LANES.thumbs * dpr, onLoad: () => painter('video') }), [painter, dpr]);

  useEffect(() => {
    const el = wrapper.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, Math.floor(el.clientWidth));
      const s = editor.get();
      const count = s.project?.project.frames.count ?? 0;
      // A timeline showing the whole video keeps showing all of it when the window changes size.
      const wasFit = count > 0 && s.zoom * count <= s.timelineWidth + 1;
      const zoom = wasFit ? fitZoom(count, w) : s.zoom;
      editor.set({ timelineWidth: w, zoom, scroll: wasFit ? 0 : s.scroll });
      editor.set({ scroll: clampScroll(editor.get().scroll, zoom) });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Native wheel listener: React's is passive, and ctrl+wheel must not zoom the whole page.
  useEffect(() => {
    const el = wrapper.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      const s = editor.get();
      const count = s.project?.project.frames.count ?? 0;
      if (!count) return;
      e.preventDefault();
      const v: View = { zoom: s.zoom, scroll: s.scroll, width: s.timelineWidth };
      const x = e.clientX - el.getBoundingClientRect().left;
      const next = e.ctrlKey || e.metaKey
        ? zoomAt(v, Math.exp(-e.deltaY * 0.0015), x, count)
        : clampView({ ...v, scroll: v.scroll + (Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : e.deltaY) / v.zoom }, count);
      editor.set({ zoom: next.zoom, scroll: next.scroll });
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, []);

  const keyImages = useMemo(() => new ImageCache({ limit: 300, height: (LANES.keys - 8) * dpr, onLoad: () => painter('keys') }), [painter, dpr]);
  const revision = project?.mediaRevision;
  useEffect(() => thumbs.resetMissing(), [revision, thumbs]);
  useEffect(() => painter('video'), [painter, project, zoom, scroll, width, coverage, flicker, dpr]);
  useEffect(() => painter('keys'), [painter, project, zoom, scroll, width, selection, dragged, drag, boxX, suggestion, dpr]);

  if (!project) return <div className="timeline empty" ref={wrapper}>No project open</div>;
  const p = project.project;
  const count = p.frames.count;
  const fps = p.frames.fps.num / p.frames.fps.den;
  const view: View = { zoom, scroll, width };
  const aspect = p.working.width / p.working.height;
  const rev = project.mediaRevision;
  const selected = new Set(selection);

  const local = (e: React.PointerEvent) => {
    const r = wrapper.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const keyThumbWidth = Math.max(12, Math.min((LANES.keys - 8) * aspect, 120));
  const markerAt = (x: number, y?: number) => {
    if (y !== undefined && y >= TOP.keys && y < TOP.keys + LANES.keys) {
      // On the keyframe lane: the thumbnail under the pointer.
      const f = keyThumbs.current.find((kf) => { const left = keyThumbX(kf, keyThumbWidth, view, p.frames.count); return x >= left && x <= left + keyThumbWidth; });
      return f === undefined ? undefined : p.keyframes.find((k) => k.frame === f)?.id;
    }
    const f = xToFrame(x, view) - 0.5;
    let best: string | undefined, bestD = MARKER_RADIUS + 2;
    for (const k of p.keyframes) {
      const d = Math.abs(frameToX(k.frame + 0.5, view) - x);
      if (d < bestD) { best = k.id; bestD = d; }
      if (k.frame > f + 20 / zoom) break;
    }
    return best;
  };

  /** The worst-covered frame whose flag is under the pointer, if any. */
  const worstAt = (x: number) => coverage?.worst.find((f) => Math.abs(frameToX(f + 0.5, view) - x) <= 6);

  const onPointerDown = (e: React.PointerEvent) => {
    const { x, y } = local(e);
    wrapper.current!.setPointerCapture(e.pointerId);
    wrapper.current!.focus();
    if (y >= TIMELINE_HEIGHT - LANES.scrollbar) return setDrag({ kind: 'scrollbar', startX: x, startScroll: scroll });
    const flag = y >= TOP.coverage && y < TOP.coverage + LANES.coverage ? worstAt(x) : undefined;
    if (flag !== undefined) return void perform('keyframe.suggestHere', String(flag)); // a flag: add the keyframe it suggests
    const onKeys = y >= TOP.keys && y < TOP.keys + LANES.keys && markerAt(x, y) !== undefined;
    if (onKeys || (y >= TOP.markers && y < TOP.markers + LANES.markers)) {
      const id = markerAt(x, onKeys ? y : undefined);
      const additive = e.shiftKey || e.ctrlKey || e.metaKey;
      if (!id) {
        if (!additive) editor.set({ selection: [] });
        setBoxX(x);
        return setDrag({ kind: 'box', x0: x, additive });
      }
      let sel = selection;
      if (additive) sel = selected.has(id) ? selection.filter((s) => s !== id) : [...selection, id];
      else if (!selected.has(id)) sel = [id];
      editor.set({ selection: sel });
      const k = p.keyframes.find((x) => x.id === id)!;
      if (!additive) setFrame(k.frame);
      const origin = new Map(p.keyframes.filter((k) => sel.includes(k.id)).map((k) => [k.id, k.frame]));
      return setDrag({ kind: 'markers', startX: x, anchorId: id, origin, moved: false });
    }
    setFrame(Math.floor(xToFrame(x, view)));
    setDrag({ kind: 'scrub' });
  };

  /** What is under the pointer, in words (the wrapper's tooltip): a keyframe, a segment, a frame. */
  const describeAt = (x: number, y: number): string => {
    const f = Math.floor(xToFrame(x, view));
    if ((y >= TOP.markers && y < TOP.markers + LANES.markers) || (y >= TOP.keys && y < TOP.keys + LANES.keys)) {
      const id = markerAt(x, y);
      const k = id && p.keyframes.find((kf) => kf.id === id);
      if (k) return `keyframe at frame ${k.frame}: ${k.source}, ${k.status}${k.note ? ` (${k.note})` : ''}`;
    }
    const seg = project.segments.find((sg) => f >= sg.start && f <= sg.end);
    let flick = flicker && y >= TOP.flicker && y < TOP.flicker + LANES.flicker ? `, warp error ${flicker[f]?.toFixed(4)}` : '';
    if (y >= TOP.coverage && y < TOP.coverage + LANES.coverage) {
      const flag = worstAt(x);
      flick = flag !== undefined ? `; frame ${flag} is among the worst covered: click the flag to add a keyframe there`
        : coverage ? `, ${describeCoverage(coverage, f)}` : '';
    }
    return seg ? `frame ${f}; frames ${seg.start}–${seg.end}: ${seg.status.replace('-', ' ')} (${seg.framesDone} done)${seg.reason ? `, ${seg.reason}` : ''}${flick}` : `frame ${f}${flick}`;
  };

  const onPointerMove = (e: React.PointerEvent) => {
    if (!drag) {
      const { x, y } = local(e);
      wrapper.current!.title = describeAt(x, y);
      return;
    }
    const { x } = local(e);
    if (drag.kind === 'scrub') setFrame(Math.floor(xToFrame(x, view)));
    else if (drag.kind === 'scrollbar') {
      const visible = width / zoom;
      const track = width - Math.max(24, (visible / count) * width);
      if (track > 0) editor.set({ scroll: clampScroll(drag.startScroll + ((x - drag.startX) / track) * (count - visible), zoom) });
    } else if (drag.kind === 'box') setBoxX(x);
    else if (drag.kind === 'markers' && drag.origin.has(drag.anchorId)) {
      const anchor = drag.origin.get(drag.anchorId)!;
      const raw = anchor + (x - drag.startX) / zoom;
      const ticks = rulerTicks(view, count);
      const landed = snapFrame(raw, [editor.get().frame, ...ticks.majors], zoom);
      const delta = clampGroupDelta([...drag.origin.values()], landed - anchor, count);
      if (delta !== 0 || drag.moved) {
        drag.moved = true;
        setDragged(new Map([...drag.origin].map(([id, f]) => [id, f + delta])));
      }
    }
  };

  const onPointerUp = async () => {
    const d = drag;
    setDrag(null);
    if (d?.kind === 'box' && boxX !== null) {
      const a = Math.min(d.x0, boxX), b = Math.max(d.x0, boxX);
      if (b - a > 3) {
        const ids = p.keyframes.filter((k) => { const kx = frameToX(k.frame + 0.5, view); return kx >= a && kx <= b; }).map((k) => k.id);
        editor.set({ selection: d.additive ? [...new Set([...selection, ...ids])] : ids });
      }
      setBoxX(null);
    }
    if (d?.kind === 'markers' && dragged) {
      const moves = [...dragged].filter(([id, f]) => d.origin.get(id) !== f).map(([id, f]) => ({ id, frame: f }));
      setDragged(undefined);
      if (moves.length) {
        const state = await call('project.edit', { action: 'moveKeyframes', moves });
        if (state) receiveProject(state);
        // The playhead goes with the keyframe that was dragged, so the inspector keeps showing it.
        const landed = dragged.get(d.anchorId);
        if (state && landed !== undefined) setFrame(landed);
      }
    }
  };

  const height = TIMELINE_HEIGHT;
  const playheadX = frameToX(frame + 0.5, view);
  /** Sizes a canvas to the timeline (device pixels) and answers its context, cleared, in CSS pixels. */
  const prepare = (canvas: HTMLCanvasElement | null): CanvasRenderingContext2D | null => {
    if (!canvas) return null;
    const w = Math.round(width * dpr), h = Math.round(height * dpr);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    const c = canvas.getContext('2d');
    if (!c) return null;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    return c;
  };
  paint.current.video = () => {
    const c = prepare(videoCanvas.current);
    if (!c) return;
    thumbs.beginPaint();
    paintRuler(c, view, count, fps);
    paintThumbnails(c, view, count, aspect, (f) => thumbs.get(mediaUrl(project, { kind: 'thumb', frame: f })));
    paintSegments(c, view, project.segments);
    paintCoverage(c, view, coverage);
    paintFlicker(c, view, flicker, project.segments.some((sg) => sg.framesDone > 0));
    paintScrollbar(c, view, count, height);
  };
  paint.current.keys = () => {
    const c = prepare(keysCanvas.current);
    if (!c) return;
    c.clearRect(0, 0, width, height);
    keyImages.beginPaint();
    const keys = dragged ? p.keyframes.map((k) => (dragged.has(k.id) ? { ...k, frame: dragged.get(k.id)! } : k)).sort((a, b) => a.frame - b.frame) : p.keyframes;
    keyThumbs.current = paintKeyframeImages(c, view, keys, count, aspect, selected, (k) => keyImages.get(mediaUrl(project, { kind: 'keyframe', path: k.image!, revision: k.revision })));
    paintMarkers(c, view, { keyframes: p.keyframes, selected, dragged, suggestion, box: drag?.kind === 'box' && boxX !== null ? { x0: drag.x0, x1: boxX } : undefined });
  };
  return (
    <div className="timeline-row">
      <div
        className="timeline"
        ref={wrapper}
        tabIndex={0}
        aria-label="Timeline: click or drag to move the playhead, click markers to select keyframes, drag them to move"
        data-testid="timeline"
        data-zoom={zoom}
        data-scroll={scroll}
        data-frames={count}
        data-marker-y={TOP.markers + LANES.markers / 2}
        data-ruler-y={TOP.thumbs + LANES.thumbs / 2}
        data-keys-y={TOP.keys + LANES.keys / 2}
        data-coverage-y={TOP.coverage + LANES.coverage / 2}
        data-worst={coverage?.worst.join(',') ?? ''}
        style={{ height: TIMELINE_HEIGHT }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      >
        <canvas ref={videoCanvas} className="timeline-canvas" data-testid="timeline-video-canvas" />
        <canvas ref={keysCanvas} className="timeline-canvas" data-testid="timeline-keys-canvas" />
        <div className="playhead" data-testid="playhead" aria-hidden="true"
          style={{ height: height - LANES.scrollbar, transform: `translateX(${Math.round(frameToX(frame + 0.5, view))}px)`, visibility: playheadX < -10 || playheadX > width + 10 ? 'hidden' : 'visible' }} />
        <span className="sr-only" data-testid="timeline-rev">{rev}</span>
      </div>
      {/* Beside the lanes, not over them: a button there hid the strip's last frames and their flags. */}
      <div className="lane-gutter" style={{ height }}>
        <button className="lane-button" data-testid="suggest-here" style={{ top: TOP.coverage + 3 }} disabled={!coverage?.worst.length}
          title={coverage?.worst.length ? `Add a keyframe at frame ${coverage.worst[0]}, where the keyframes cover the video worst (${shortcutOf('keyframe.suggestHere')}); the yellow flags mark the next worst` : 'Propagate first: coverage is measured while propagating'}
          onClick={() => void perform('keyframe.suggestHere')}>Suggest a keyframe here</button>
        <button className="lane-button" data-testid="measure-flicker" style={{ top: TOP.flicker + 2 }} disabled={measuring || !project.segments.some((s) => s.framesDone > 0)}
          title={project.segments.some((s) => s.framesDone > 0) ? 'Warp error per frame of the propagated result: where it flickers' : 'Propagate first: flicker is measured on the propagated frames'}
          onClick={() => void perform('render.measureFlicker')}>{measuring ? 'Measuring…' : 'Measure flicker'}</button>
      </div>
    </div>
  );
}
