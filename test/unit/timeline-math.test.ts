// Timeline geometry: zoom anchored at the pointer, zoom-adaptive ruler ticks, virtualised ranges,
// snapping and group moves, on long videos (10,000 frames) as on short ones.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clampGroupDelta, clampView, fitZoom, frameToX, rulerTicks, snapFrame, thumbnailFrames, visibleRange, xToFrame, zoomAt, MAX_ZOOM } from '../../renderer/timeline/timeline-math';

describe('timeline math', () => {
  test('given any view, when zooming at a pointer, then the frame under the pointer stays under it (unless clamped at an end)', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 10_000 }), fc.double({ min: 0.2, max: 5, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (count, factor, at) => {
      const width = 1000;
      const v = clampView({ zoom: fitZoom(count, width) * 4, scroll: count / 3, width }, count);
      const x = at * width;
      const before = xToFrame(x, v);
      const z = zoomAt(v, factor, x, count);
      assert.ok(z.zoom >= fitZoom(count, width) - 1e-9 && z.zoom <= MAX_ZOOM);
      const maxScroll = Math.max(0, count - width / z.zoom);
      if (z.scroll > 1e-9 && z.scroll < maxScroll - 1e-9) assert.ok(Math.abs(xToFrame(x, z) - before) < 1e-6);
    }));
  });

  test('given a 10,000-frame video, when fully zoomed out or in, then ruler labels stay apart and ticks stay few', () => {
    for (const zoom of [fitZoom(10_000, 1200), 0.5, 2, 10, MAX_ZOOM]) {
      const v = clampView({ zoom, scroll: 4321, width: 1200 }, 10_000);
      const t = rulerTicks(v, 10_000);
      assert.ok(t.major * v.zoom >= 90, `labels ${t.major * v.zoom}px apart at zoom ${zoom}`);
      assert.ok(t.majors.length + t.minors.length < 400);
      assert.ok(t.majors.every((f) => f % t.major === 0));
    }
  });

  test('given a long video, when thumbnails are laid out, then only visible ones are listed, aligned to a stable step', () => {
    const v = { zoom: 0.12, scroll: 0, width: 1200 };
    const { framesPerThumb, frames } = thumbnailFrames(v, 10_000, 78);
    assert.ok(frames.length <= 2 * Math.ceil(1200 / 78) + 2);
    assert.ok(frames.every((f) => f % framesPerThumb === 0));
    const scrolled = thumbnailFrames({ ...v, zoom: 4, scroll: 5000.3 }, 10_000, 78);
    assert.ok(scrolled.frames[0] <= 5000.3 && scrolled.frames.at(-1)! <= 5000.3 + 1200 / 4 + 1);
  });

  test('given sorted segments, when the visible range is asked, then exactly the overlapping ones are returned', () => {
    const segs = Array.from({ length: 1000 }, (_, i) => ({ start: i * 10 + 1, end: i * 10 + 9 }));
    const [lo, hi] = visibleRange(segs, 95, 130, (s) => s.start, (s) => s.end);
    assert.deepEqual(segs.slice(lo, hi).map((s) => s.start), [91, 101, 111, 121]);
  });

  test('given a drag near the playhead, then it snaps there; far away, to whole frames', () => {
    assert.equal(snapFrame(101.6, [100], 4), 100);
    assert.equal(snapFrame(110.6, [100], 4), 111);
  });

  test('given a group of keyframes dragged past the end, then the group stops at the edge', () => {
    assert.equal(clampGroupDelta([10, 20, 95], 10, 100), 4);
    assert.equal(clampGroupDelta([10, 20], -30, 100), -10);
    assert.equal(frameToX(xToFrame(123, { zoom: 3, scroll: 7, width: 500 }), { zoom: 3, scroll: 7, width: 500 }), 123);
  });
});
