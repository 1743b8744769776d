// Decoded images by URL with a size limit (least recently used go first): timeline thumbnails and
// preview frames are drawn from here, so scrolling and playback never wait on the network twice.

export class ImageCache {
  private images = new Map<string, HTMLImageElement>();
  private loading = new Map<string, Promise<HTMLImageElement | undefined>>();
  private failed = new Set<string>();

  /** `onLoad` runs after any image finishes loading (the timeline batches a redraw). */
  constructor(private readonly limit: number, private readonly onLoad?: () => void) {}

  /** The decoded image if it is ready; otherwise starts loading it and answers undefined. */
  get(url: string): HTMLImageElement | undefined {
    const img = this.images.get(url);
    if (img) {
      this.images.delete(url);
      this.images.set(url, img);
      return img;
    }
    void this.load(url);
    return undefined;
  }

  has(url: string): boolean {
    return this.images.has(url);
  }

  isMissing(url: string): boolean {
    return this.failed.has(url);
  }

  load(url: string): Promise<HTMLImageElement | undefined> {
    const ready = this.images.get(url);
    if (ready) return Promise.resolve(ready);
    if (this.failed.has(url)) return Promise.resolve(undefined);
    const existing = this.loading.get(url);
    if (existing) return existing;
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    const p = img.decode().then(
      () => {
        this.images.set(url, img);
        this.trim();
        return img;
      },
      () => {
        this.failed.add(url);
        return undefined;
      },
    ).finally(() => {
      this.loading.delete(url);
      this.onLoad?.();
    });
    this.loading.set(url, p);
    return p;
  }

  /** Forgets failures (a file that did not exist may exist after a render). */
  resetMissing(): void {
    this.failed.clear();
  }

  private trim(): void {
    while (this.images.size > this.limit) {
      const oldest = this.images.keys().next().value as string;
      this.images.delete(oldest);
    }
  }
}
