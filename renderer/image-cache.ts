// Decoded images by URL with a size limit (least recently used go first): timeline thumbnails, keyframe
// images and preview frames are drawn from here, so scrolling and playback never wait on the network twice.
// Images are fetched and decoded off the main thread (renderer/image-worker.ts), optionally scaled to
// the height they are drawn at, and kept as ImageBitmaps (drawn without decoding again). At most a few
// are loaded at once; images asked for by a paint that a later paint no longer asks for are dropped
// from the queue (a fast scroll does not load everything it passed).
import { decodeImage, type DecodeReply, type DecodeRequest } from './image-worker';

const IN_FLIGHT = 6;

/** One decoder worker for every cache; the main thread decodes itself where a worker cannot start. */
let worker: Worker | null | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve(b: ImageBitmap): void; reject(e: Error): void }>();

function decoder(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./image-worker.js', import.meta.url));
    worker.onmessage = (e: MessageEvent<DecodeReply>) => {
      const w = waiting.get(e.data.id);
      waiting.delete(e.data.id);
      if (!w) return;
      if ('bitmap' in e.data) w.resolve(e.data.bitmap);
      else w.reject(new Error(e.data.error));
    };
    worker.onerror = () => {
      // The worker script did not load (an old build, a policy): decode here from now on.
      worker = null;
      for (const w of waiting.values()) w.reject(new Error('the image decoder stopped'));
      waiting.clear();
    };
  } catch {
    worker = null;
  }
  return worker;
}

function decode(url: string, height?: number): Promise<ImageBitmap> {
  const absolute = new URL(url, document.baseURI).href;
  const w = decoder();
  if (!w) return decodeImage(absolute, height);
  return new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    w.postMessage({ id, url: absolute, height } satisfies DecodeRequest);
  });
}

export interface ImageCacheOptions {
  /** Most images kept. */
  limit: number;
  /** Most pixels kept (full frames are large), default no limit beyond `limit`. */
  maxPixels?: number;
  /** Decode scaled to this many device pixels tall (thumbnails): smaller to keep, cheaper to draw. */
  height?: number;
  /** Runs after any image finishes loading (the timeline batches a redraw). */
  onLoad?: () => void;
}

export class ImageCache {
  private images = new Map<string, ImageBitmap>();
  private pixels = 0;
  private loading = new Map<string, Promise<ImageBitmap | undefined>>();
  /** Not started yet: url → the paint that last asked (Infinity: asked by `load`, never dropped). */
  private queued = new Map<string, { paint: number; start(): void }>();
  private running = 0;
  private paint = 0;
  private failed = new Set<string>();

  constructor(private readonly opts: ImageCacheOptions) {}

  /**
   * A new paint begins: images the previous paints asked for and this one does not will be dropped
   * from the queue (those already loading finish).
   */
  beginPaint(): void {
    this.paint++;
  }

  /** The decoded image if it is ready; otherwise queues loading it and answers undefined. */
  get(url: string): ImageBitmap | undefined {
    const img = this.images.get(url);
    if (img) {
      this.images.delete(url);
      this.images.set(url, img);
      return img;
    }
    const q = this.queued.get(url);
    if (q) q.paint = Math.max(q.paint, this.paint);
    else void this.enqueue(url, this.paint);
    return undefined;
  }

  has(url: string): boolean {
    return this.images.has(url);
  }

  isMissing(url: string): boolean {
    return this.failed.has(url);
  }

  /** Loads `url` (never dropped from the queue): playback preloads ahead with it. */
  load(url: string): Promise<ImageBitmap | undefined> {
    const q = this.queued.get(url);
    if (q) q.paint = Infinity;
    return this.enqueue(url, Infinity);
  }

  private enqueue(url: string, paint: number): Promise<ImageBitmap | undefined> {
    const ready = this.images.get(url);
    if (ready) return Promise.resolve(ready);
    if (this.failed.has(url)) return Promise.resolve(undefined);
    const existing = this.loading.get(url);
    if (existing) return existing;
    const p = new Promise<ImageBitmap | undefined>((resolve) => {
      this.queued.set(url, {
        paint,
        start: () => {
          this.running++;
          decode(url, this.opts.height).then(
            (bitmap) => { this.keep(url, bitmap); resolve(bitmap); },
            () => { this.failed.add(url); resolve(undefined); },
          ).finally(() => {
            this.running--;
            this.loading.delete(url);
            this.opts.onLoad?.();
            this.pump();
          });
        },
      });
    });
    this.loading.set(url, p);
    queueMicrotask(() => this.pump());
    return p;
  }

  /** Starts queued loads up to the limit, the most recently asked first; drops what no recent paint asked for. */
  private pump(): void {
    for (const [url, q] of this.queued) {
      if (q.paint < this.paint - 1) {
        // Scrolled past: forget it (asked again, it is queued again).
        this.queued.delete(url);
        this.loading.delete(url);
      }
    }
    while (this.running < IN_FLIGHT && this.queued.size > 0) {
      let best: string | undefined, bestPaint = -Infinity;
      for (const [url, q] of this.queued) if (q.paint >= bestPaint) { best = url; bestPaint = q.paint; }
      const q = this.queued.get(best!)!;
      this.queued.delete(best!);
      q.start();
    }
  }

  /** Forgets failures (a file that did not exist may exist after a render). */
  resetMissing(): void {
    this.failed.clear();
  }

  private keep(url: string, bitmap: ImageBitmap): void {
    const old = this.images.get(url);
    if (old) { this.pixels -= old.width * old.height; this.images.delete(url); }
    this.images.set(url, bitmap);
    this.pixels += bitmap.width * bitmap.height;
    const maxPixels = this.opts.maxPixels ?? Infinity;
    while (this.images.size > 1 && (this.images.size > this.opts.limit || this.pixels > maxPixels)) {
      const [oldest, img] = this.images.entries().next().value as [string, ImageBitmap];
      this.images.delete(oldest);
      this.pixels -= img.width * img.height;
      // Paints draw synchronously from get(), so nothing holds an evicted bitmap: free its pixels now.
      img.close();
    }
  }
}
