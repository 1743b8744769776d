// Estimated time left from a stream of progress fractions (smoothed rate since the job started).

/** Returns a function that takes the current fraction and answers the seconds left, once it can tell. */
export function createEtaEstimator(now: () => number = Date.now): (fraction: number) => number | undefined {
  const start = now();
  let rate: number | undefined; // fraction per second, exponentially smoothed
  let lastT = start;
  let lastF = 0;
  return (fraction: number) => {
    const t = now();
    if (fraction <= 0 || t - start < 500) { lastT = t; lastF = fraction; return undefined; }
    const dt = (t - lastT) / 1000;
    if (dt > 0.2 && fraction > lastF) {
      const r = (fraction - lastF) / dt;
      const overall = fraction / ((t - start) / 1000);
      rate = rate === undefined ? overall : 0.7 * rate + 0.3 * r;
      lastT = t;
      lastF = fraction;
    }
    const r = rate ?? fraction / ((t - start) / 1000);
    return r > 0 ? Math.max(0, (1 - fraction) / r) : undefined;
  };
}

export interface StepProgress {
  /** One more step done: reported as its fraction with "<what>: step n/total, about N s left". */
  step(): void;
  /** The fraction done so far (for messages between steps). */
  fraction(): number;
}

/** Progress of a job counted in `total` steps (e.g. UNet evaluations), with an ETA. */
export function stepProgress(total: number, report: ((fraction: number, message: string) => void) | undefined, what: () => string): StepProgress {
  const eta = createEtaEstimator();
  let done = 0;
  const fraction = () => (total > 0 ? Math.min(1, done / total) : 0);
  return {
    fraction,
    step() {
      done++;
      const f = fraction(), left = eta(f);
      report?.(f, `${what()}: step ${done}/${total}${left !== undefined ? `, about ${Math.ceil(left)} s left` : ''}`);
    },
  };
}
