// The preview: source frame, keyframe result or propagated frame, alone or compared with the source
// (A/B wipe or side by side), optionally with the frame's error map over it (E). Frames are decoded images from a cache drawn on a canvas; playback at
// the project fps preloads ahead and drops frames rather than waiting (no <video> seeking).
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Keyframe, ProjectState } from '../preload/api';
import { mediaUrl } from './media-url';
import { editor, setFrame, useEditor, type Coverage, type PreviewSource } from './store';
import { ImageCache } from './image-cache';
import { perform, shortcutOf } from './actions';
import { historyLabel, isRender } from './Inspector';

const PRELOAD_AHEAD = 24;

/**
 * The URL shown for `frame` in a preview source, with what it is (for the caption); `stale`: why the frame
 * shown is out of date; `pending`: the frame's segment is not (fully) propagated, so the output may not
 * exist yet: then the source frame (`fallback`) is drawn dimmed under this caption, never a black canvas.
 * `label`: what the picture is in a few words, over its side when it is compared with the source.
 */
export interface PreviewImage { url: string | null; caption: string; label: string; stale?: string; pending?: string; fallback?: string }

export function previewUrl(state: ProjectState, frame: number, source: PreviewSource): PreviewImage {
  const p = state.project;
  const keyAt = p.keyframes.find((k) => k.frame === frame);
  if (source === 'source') return { url: mediaUrl(state, { kind: 'frame', frame }), caption: `source frame ${frame}`, label: `Source frame ${frame}` };
  if (source === 'keyframe') {
    const k: Keyframe | undefined = keyAt ?? [...p.keyframes].reverse().find((x) => x.frame < frame);
    if (!k) return { url: null, caption: 'no keyframe before this frame', label: 'No keyframe' };
    if (!k.image) return { url: null, caption: `keyframe at frame ${k.frame} is not rendered yet (${k.status})`, label: `Keyframe at frame ${k.frame}` };
    return { url: mediaUrl(state, { kind: 'file', path: k.image }), caption: `keyframe at frame ${k.frame} (${k.source}, ${k.status})`, label: `Keyframe at frame ${k.frame} (${k.source})` };
  }
  const seg = state.segments.find((s) => frame >= s.start && frame <= s.end);
  if (keyAt?.image && (!seg || seg.framesDone === 0)) return { url: mediaUrl(state, { kind: 'file', path: keyAt.image }), caption: `keyframe at frame ${frame}`, label: `Keyframe at frame ${frame}` };
  if (seg && seg.framesDone === 0 && seg.status === 'stale') {
    // What the last propagation made, from other inputs: shown, marked stale, until it is propagated again.
    const why = seg.reason ?? 'it was propagated from other inputs';
    return { url: mediaUrl(state, { kind: 'output-stale', frame }), caption: `stale frame ${frame}: ${why}`, label: `Propagated frame ${frame} (stale)`, stale: why };
  }
  const notYet = seg ? `frame ${frame} is not propagated yet (${seg.status === 'partial' ? 'partly propagated' : seg.status})` : '';
  const fallback = mediaUrl(state, { kind: 'frame', frame });
  const label = `Propagated frame ${frame}`;
  if (seg && seg.framesDone === 0) return { url: null, caption: notYet, label, pending: notYet, fallback };
  const url = mediaUrl(state, { kind: 'output', frame });
  // A segment being propagated (or left part done) has frames written and frames still to come.
  if (seg && seg.status !== 'done') return { url, caption: `propagated frame ${frame}`, label, pending: notYet, fallback };
  return { url, caption: `propagated frame ${frame}`, label };
}

/**
 * A coverage map (red: error code, green: share no keyframe shows) as a translucent heat image: error
 * from the project's typical frame (`scale.low`) to its worst pixels (`scale.high`) goes from clear to
 * red, and what no keyframe shows is magenta.
 */
const heats = new Map<string, HTMLCanvasElement>();
function heatOf(url: string, img: ImageBitmap, scale: Coverage['scale']): HTMLCanvasElement {
  const key = `${url}|${scale.low}|${scale.high}`;
  const ready = heats.get(key);
  if (ready) return ready;
  const c = document.createElement('canvas');
  c.width = img.width;
  c.height = img.height;
  const g = c.getContext('2d', { willReadFrequently: true })!;
  g.drawImage(img, 0, 0);
  const px = g.getImageData(0, 0, c.width, c.height);
  const d = px.data;
  for (let i = 0; i < d.length; i += 4) {
    const bad = Math.max(0, Math.min(1, (d[i] - scale.low) / Math.max(1, scale.high - scale.low)));
    const unseen = d[i + 1] / 255;
    if (unseen >= 0.5) { d[i] = 230; d[i + 1] = 60; d[i + 2] = 230; d[i + 3] = 190; }
    else { d[i] = 255; d[i + 1] = Math.round(200 * (1 - bad)); d[i + 2] = 0; d[i + 3] = Math.round(200 * bad); }
  }
  g.putImageData(px, 0, 0);
  if (heats.size > 64) heats.delete(heats.keys().next().value!);
  heats.set(key, c);
  return c;
}

/** The names of a comparison's two sides, drawn over each picture (x, y: the label's corner in the box). */
interface CompareTag { text: string; x: number; y: number; right?: boolean }

function fit(iw: number, ih: number, w: number, h: number) {
  const s = Math.min(w / iw, h / ih);
  return { dw: iw * s, dh: ih * s, dx: (w - iw * s) / 2, dy: (h - ih * s) / 2 };
}

export function Preview() {
  const project = useEditor((s) => s.project);
  const frame = useEditor((s) => s.frame);
  const source = useEditor((s) => s.previewSource);
  const compare = useEditor((s) => s.compare);
  const wipe = useEditor((s) => s.wipe);
  const playing = useEditor((s) => s.playing);
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const firstDrawn = useRef<number | null>(null);
  const openedAt = useEditor((s) => s.openedAt);
  const redraw = useRef<() => void>(() => undefined);
  // Full frames: at most 160, and at most 200 Mpx (800 MB) of them decoded.
  const cache = useMemo(() => new ImageCache({ limit: 160, maxPixels: 200e6, onLoad: () => redraw.current() }), []);
  const historyView = useEditor((s) => s.historyView);
  const errorOverlay = useEditor((s) => s.errorOverlay);
  const coverageScale = useEditor((s) => s.coverage?.scale);
  // An earlier render chosen in the inspector's history: shown beside (or wiped against) the current image.
  const histKey = historyView && project?.project.keyframes.find((k) => k.id === historyView.keyframeId);
  const histEntry = histKey ? histKey.history[historyView!.index] : undefined;
  const earlier = project && histKey && histEntry ? mediaUrl(project, { kind: 'file', path: histEntry.image }) : null;
  const current = project && histKey?.image ? mediaUrl(project, { kind: 'keyframe', path: histKey.image, revision: histKey.revision }) : null;
  let main: PreviewImage = project ? previewUrl(project, frame, source) : { url: null, caption: '', label: '' };
  // What the canvas shows when it has no image of its own (set by the drawing, which runs after image loads
  // without a render): the "not rendered / not propagated yet" caption over it, or null when an image is drawn.
  const [empty, setEmpty] = useState<string | null>(null);
  // The comparison's labels where the last drawing put its two pictures (JSON: the same places set no new state).
  const [tagsJson, setTags] = useState('[]');
  const tags = JSON.parse(tagsJson) as CompareTag[];
  let sourceUrl = project ? mediaUrl(project, { kind: 'frame', frame }) : null;
  let showCompare = compare !== 'none' && source !== 'source';
  // The two sides' names: the source, and the result the caption names.
  let names = { left: `Source frame ${frame}`, right: main.label };
  if (earlier && histEntry) {
    // An imported or painted image has no seed: say what it was.
    const name = `earlier ${isRender(histEntry) ? 'render' : 'image'} #${historyView!.index + 1} (${historyLabel(histEntry)})`;
    if (compare !== 'none' && current) {
      const now = { seed: histKey!.overrides.seed ?? project!.project.render.seed, source: histKey!.source };
      const currentName = `Current ${isRender(now) ? 'render' : 'image'} (${historyLabel(now)})`;
      main = { url: current, caption: compare === 'wipe' ? `${name} left of the line · current right` : `left: ${name} · right: current`, label: currentName };
      names = { left: name.replace(/^./, (c) => c.toUpperCase()), right: currentName };
      sourceUrl = earlier;
      showCompare = true;
    } else {
      main = { url: earlier, caption: `${name} of the keyframe at frame ${histKey!.frame}`, label: name };
      showCompare = false;
    }
  }

  // The error map of this frame over the picture (not over an earlier render of a keyframe).
  // A frame has a map exactly when it has figures (both are written together when its segment is done).
  const hasMap = useEditor((s) => s.coverage?.error[s.frame] != null);
  const mapUrl = project && errorOverlay && !earlier && coverageScale && hasMap ? mediaUrl(project, { kind: 'coverage', frame }) : null;
  if (errorOverlay && !earlier) main = { ...main, caption: `${main.caption} · error map${mapUrl ? '' : ': none for this frame'}` };

  redraw.current = () => {
    const c = canvas.current;
    const el = box.current;
    if (!c || !el || !project) return;
    const dpr = window.devicePixelRatio || 1;
    const w = el.clientWidth, h = el.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    const g = c.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const a = main.url ? cache.get(main.url) : undefined;
    const b = showCompare && sourceUrl ? cache.get(sourceUrl) : undefined;
    const map = mapUrl ? cache.get(mapUrl) : undefined;
    if (main.pending && main.fallback && !a && !earlier) {
      // Not propagated (yet): while a newer revision of a frame already shown loads, keep it; otherwise the
      // source frame dimmed under "not propagated yet" (a black canvas would look like the output).
      const known = !main.url || cache.isMissing(main.url);
      if (!known && c.dataset.drawnFrame === String(frame) && c.dataset.pending !== '1' && c.dataset.drawn) return;
      const f = cache.get(main.fallback);
      if (!f && !cache.isMissing(main.fallback)) return;
      g.fillStyle = '#0b0c0f';
      g.fillRect(0, 0, w, h);
      const r = fit(project.project.working.width, project.project.working.height, w, h);
      if (f) {
        g.globalAlpha = 0.3;
        g.drawImage(f, r.dx, r.dy, r.dw, r.dh);
        g.globalAlpha = 1;
      }
      c.dataset.drawnFrame = String(frame);
      c.dataset.drawn = '';
      c.dataset.pending = '1';
      c.dataset.compared = '';
      c.dataset.overlay = '';
      setEmpty(main.pending);
      setTags('[]');
      return;
    }
    if ((main.url && !a && !cache.isMissing(main.url)) || (showCompare && !b)) return; // keep the last frame until ready
    if (mapUrl && !map && !cache.isMissing(mapUrl)) return;
    const overlay = (r: { dx: number; dy: number; dw: number; dh: number }) => {
      if (!map || !mapUrl || !coverageScale) return;
      g.imageSmoothingEnabled = true;
      g.drawImage(heatOf(mapUrl, map, coverageScale), r.dx, r.dy, r.dw, r.dh);
    };
    g.fillStyle = '#0b0c0f';
    g.fillRect(0, 0, w, h);
    const { width: iw, height: ih } = project.project.working;
    let placed: CompareTag[] = [];
    if (showCompare && compare === 'side-by-side') {
      const left = fit(iw, ih, w / 2 - 4, h), right = fit(iw, ih, w / 2 - 4, h);
      if (b) g.drawImage(b, left.dx, left.dy, left.dw, left.dh);
      if (a) g.drawImage(a, w / 2 + 4 + right.dx, right.dy, right.dw, right.dh);
      overlay({ ...right, dx: w / 2 + 4 + right.dx });
      placed = [{ text: names.left, x: left.dx, y: left.dy }, { text: names.right, x: w / 2 + 4 + right.dx, y: right.dy }];
    } else {
      const r = fit(iw, ih, w, h);
      if (a) g.drawImage(a, r.dx, r.dy, r.dw, r.dh);
      overlay(r);
      if (showCompare && b) {
        const cut = r.dx + r.dw * wipe;
        g.save();
        g.beginPath();
        g.rect(r.dx, r.dy, cut - r.dx, r.dh);
        g.clip();
        g.drawImage(b, r.dx, r.dy, r.dw, r.dh);
        g.restore();
        g.fillStyle = '#ffffff';
        g.fillRect(cut - 1, r.dy, 2, r.dh);
        placed = [{ text: `${names.left} ◂`, x: r.dx, y: r.dy }, { text: `▸ ${names.right}`, x: r.dx + r.dw, y: r.dy, right: true }];
      }
    }
    setTags(JSON.stringify(placed.map((t) => ({ ...t, x: Math.round(t.x), y: Math.round(t.y) }))));
    c.dataset.drawnFrame = String(frame);
    c.dataset.drawn = main.url ?? '';
    c.dataset.pending = '';
    setEmpty(a ? null : main.url ? `${main.caption}: not rendered yet` : main.caption);
    c.dataset.compared = showCompare ? sourceUrl ?? '' : '';
    c.dataset.overlay = map ? mapUrl ?? '' : '';
    if (a && firstDrawn.current !== openedAt) {
      // Open → first frame on screen, for the bench (performance entries cost nothing otherwise).
      firstDrawn.current = openedAt;
      performance.mark('rerender:first-preview-frame');
      performance.measure('rerender:open-to-first-preview', { start: openedAt });
    }
  };

  useEffect(() => redraw.current());

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => redraw.current());
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Playback: the frame follows the clock at the project fps; images load ahead of the playhead.
  useEffect(() => {
    if (!playing || !project) return;
    const p = project.project;
    const fps = p.frames.fps.num / p.frames.fps.den;
    const start = editor.get().frame >= p.frames.count - 1 ? 0 : editor.get().frame;
    const t0 = performance.now();
    let raf = 0;
    const tick = () => {
      const target = start + Math.floor(((performance.now() - t0) / 1000) * fps);
      if (target >= p.frames.count) {
        setFrame(p.frames.count - 1);
        editor.set({ playing: false });
        return;
      }
      for (let f = target; f < Math.min(p.frames.count, target + PRELOAD_AHEAD); f++) {
        const u = previewUrl(project, f, editor.get().previewSource).url;
        if (u) void cache.load(u);
      }
      if (target !== editor.get().frame) setFrame(target);
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, project, cache]);

  useEffect(() => cache.resetMissing(), [project?.mediaRevision, cache]);

  const onPointer = (e: React.PointerEvent) => {
    if (!showCompare || compare !== 'wipe' || e.buttons !== 1) return;
    const r = box.current!.getBoundingClientRect();
    editor.set({ wipe: Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) });
  };

  const missing = empty !== null;
  return (
    <div className="preview">
      <div className="preview-canvas" ref={box} onPointerDown={onPointer} onPointerMove={onPointer}>
        <canvas ref={canvas} data-testid="preview-canvas" />
        {/* Side by side, what is missing is the right-hand picture: said over that half, not over the source. */}
        {project && missing && <div className="preview-empty" data-testid="preview-empty" style={tags.length && compare === 'side-by-side' ? { left: '50%' } : undefined}>{empty}</div>}
        {errorOverlay && !earlier && (
          <div className="preview-legend" data-testid="error-map-legend">
            {mapUrl ? <>error map: <span className="red">red</span> = matched poorly to its keyframes, <span className="magenta">magenta</span> = no keyframe shows it</>
              : 'error map: none for this frame (a keyframe, or not propagated with the current keyframes)'}
          </div>
        )}
        {tags.map((t, i) => (
          <div key={i} className="preview-tag" data-testid={`compare-${i ? 'right' : 'left'}`} style={{ ...(t.right ? { right: `calc(100% - ${t.x}px + 6px)` } : { left: t.x + 6 }), top: t.y + (main.stale ? 34 : 6) }}>{t.text}</div>
        ))}
        {project && !missing && main.stale && <div className="preview-stale" data-testid="preview-stale" title={main.stale}>Stale — propagate again to update</div>}
      </div>
      <div className="preview-bar">
        {(['source', 'keyframe', 'output'] as const).map((s, i) => (
          <button key={s} className={source === s && !earlier ? 'on' : ''} onClick={() => void perform(`view.${s}`)} title={`shortcut ${i + 1}`}>
            {s === 'source' ? 'Source' : s === 'keyframe' ? 'Keyframe result' : 'Propagated'}
          </button>
        ))}
        <span className="sep" />
        <button className={compare === 'wipe' ? 'on' : ''} onClick={() => editor.set({ compare: compare === 'wipe' ? 'none' : 'wipe' })} title="W">A/B wipe</button>
        <button className={compare === 'side-by-side' ? 'on' : ''} onClick={() => editor.set({ compare: compare === 'side-by-side' ? 'none' : 'side-by-side' })} title="B">Side by side</button>
        <span className="sep" />
        <button className={errorOverlay ? 'on' : ''} data-testid="error-map" onClick={() => editor.set({ errorOverlay: !errorOverlay })} title={`Error map: where the propagated frame matches its keyframes poorly (red) or shows what no keyframe shows (magenta) (${shortcutOf('view.errorMap')})`}>Error map</button>
        <span className="sep" />
        <button onClick={() => editor.set({ playing: !playing })} title="Space">{playing ? 'Pause' : 'Play'}</button>
        <span className="caption" data-testid="preview-caption" title={empty ?? main.caption}>{empty ?? main.caption}</span>
      </div>
    </div>
  );
}
