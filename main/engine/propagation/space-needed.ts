// Disk space a propagation run needs, estimated before it starts so a full disk is said up front: the
// output frames still to write, the flows still to compute, and the intermediates of the segments that
// run at the same time (removed as each segment finishes).
import fs from 'node:fs';
import path from 'node:path';
import type { Segment } from '../project/keyframes';
import { frameFileName } from '../project/paths';

export interface SpaceRequest {
  framesDir: string;
  width: number;
  height: number;
  /** Segments to run and, per segment, its frames not finished yet. */
  segments: Array<{ segment: Segment; pending: number }>;
  /** Flow pairs not in the cache yet. */
  missingFlows: number;
  workers: number;
}

/** Average size of a few decoded frames: propagated frames are PNGs of the same size and content. */
function framePngBytes(framesDir: string, pixels: number): number {
  const sizes: number[] = [];
  for (const i of [0, 1, 2, 3, 4]) {
    const size = fs.statSync(path.join(framesDir, frameFileName(i)), { throwIfNoEntry: false })?.size;
    if (size) sizes.push(size);
  }
  return sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : pixels * 1.5;
}

export function propagationBytesNeeded(req: SpaceRequest): number {
  const pixels = req.width * req.height;
  const png = framePngBytes(req.framesDir, pixels);
  const outputs = req.segments.reduce((n, s) => n + s.pending, 0) * png;
  // A cached flow pair: two fields of two int16 per pixel before compression (compact-flow.ts), an upper
  // bound. A chain step keeps its raw image (three bytes), error map (one float), positions (two
  // floats) and patch matches (two int32) until the segment is done (frame-store.ts); blended segments run two chains.
  const flows = req.missingFlows * 2 * (16 + pixels * 4);
  const chain = (s: { segment: Segment; pending: number }) => (s.pending ? (s.segment.end - s.segment.start + 1) * (s.segment.left && s.segment.right ? 2 : 1) * pixels * 23 : 0);
  const inFlight = req.segments.map(chain).sort((a, b) => b - a).slice(0, req.workers).reduce((a, b) => a + b, 0);
  return Math.round(outputs + flows + inFlight);
}
