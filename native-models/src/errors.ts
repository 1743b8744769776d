// Errors a user can act on: what failed, with which file, and what to do.

/**
 * An error caused by input from outside (a file, a parameter, a message); its message is shown as is.
 * `detail` (a tool's raw output, say) is for logs and RERENDER_DEBUG, never part of the message.
 */
export class UserError extends Error {
  constructor(message: string, readonly file?: string, readonly detail?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'UserError';
  }
}

/** A user error's words without the file its message starts with (for a line that names the file itself). */
export function problemOf(err: UserError): string {
  return err.file && err.message.startsWith(`${err.file}: `) ? err.message.slice(err.file.length + 2) : err.message;
}

/** Thrown when a long operation is cancelled by the user; never reported as a failure. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function isCancelled(err: unknown): boolean {
  return err instanceof Error && err.name === 'CancelledError';
}

/** A cancellation token shared by long-running work (decode, flow, propagation, diffusion). */
export class CancelToken {
  private reason: string | undefined;
  private listeners: Array<() => void> = [];
  get cancelled(): boolean { return this.reason !== undefined; }
  cancel(reason = 'cancelled'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    for (const l of this.listeners.splice(0)) l();
  }
  onCancel(listener: () => void): void {
    if (this.cancelled) listener(); else this.listeners.push(listener);
  }
  throwIfCancelled(): void {
    if (this.reason !== undefined) throw new CancelledError(this.reason);
  }
}

/** Progress callback used by every long operation: fraction in [0, 1] and a short message. */
export type ProgressFn = (fraction: number, message?: string) => void;
