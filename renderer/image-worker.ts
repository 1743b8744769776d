// The image decoder worker: fetches an image of the open project and decodes it off the main thread
// (createImageBitmap), scaled to the height it will be drawn at when one is asked, and hands the
// bitmap back without copying. Used by ImageCache (renderer/image-cache.ts), which owns the protocol.

/** Asked: decode `url` (absolute, same origin), to `height` device pixels tall if given (the width follows the aspect). */
export interface DecodeRequest { id: number; url: string; height?: number }
/** Answered: the bitmap, or why there is none (`missing`: the server has no such file). */
export type DecodeReply = { id: number; bitmap: ImageBitmap } | { id: number; error: string; missing: boolean };

/** Fetches and decodes one image; shared with the main-thread fallback of ImageCache. */
export async function decodeImage(url: string, height?: number): Promise<ImageBitmap> {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw Object.assign(new Error(`${res.status} ${res.statusText} for ${url}`), { missing: res.status === 404 });
  const blob = await res.blob();
  const full = await createImageBitmap(blob);
  if (!height || full.height <= height) return full;
  // Scaled once here, not on every draw: drawing a large keyframe image into a 38-pixel slot each frame is what costs.
  const scaled = await createImageBitmap(full, { resizeHeight: Math.round(height), resizeWidth: Math.max(1, Math.round((full.width * height) / full.height)), resizeQuality: 'medium' });
  full.close();
  return scaled;
}

// In a worker (not when imported by the main thread for the fallback): answer requests.
const scope = globalThis as unknown as { WorkerGlobalScope?: unknown; onmessage: unknown; postMessage(m: unknown, t?: Transferable[]): void };
if (typeof scope.WorkerGlobalScope !== 'undefined') {
  scope.onmessage = (e: MessageEvent<DecodeRequest>) => {
    const { id, url, height } = e.data;
    decodeImage(url, height).then(
      (bitmap) => scope.postMessage({ id, bitmap } satisfies DecodeReply, [bitmap]),
      (err: Error & { missing?: boolean }) => scope.postMessage({ id, error: err.message, missing: err.missing === true } satisfies DecodeReply),
    );
  };
}
