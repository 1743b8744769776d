// Estimated time left from a stream of progress fractions (smoothed rate since the job started), and
// step counting for jobs measured in steps. The ETA is computed once, by whoever shows the progress:
// the editor's job list and the command line's progress line.

/** How far back the rate is measured: long enough to even out uneven steps, short enough to follow a change. */
const RATE_WINDOW_MS = 20_000;
/** No estimate until the rate has been measured over this long (a job's first moments say little). */
const MIN_MEASURED_MS = 2_000;
/** Time constant of the smoothing of the estimate itself: it counts down, and moves toward new rates gradually. */
const SMOOTHING_MS = 5_000;

/**
 * Returns a function that takes the current fraction and answers the seconds left, or undefined while
 * there is no measured rate yet ("estimating…"). The rate is measured from the first progress (set-up
 * time such as model loading does not count) over the last 20 s; the estimate counts down between
 * updates and follows a new rate with smoothing, so it does not jump.
 */
export function createEtaEstimator(now: () => number = Date.now): (fraction: number) => number | undefined {
  const samples: Array<{ t: number; f: number }> = [];
  let last: { t: number; eta: number } | undefined;
  return (fraction: number) => {
    const t = now();
    if (fraction <= 0) return undefined;
    if (fraction >= 1) return 0;
    const tail = samples[samples.length - 1];
    if (!tail || fraction > tail.f) samples.push({ t, f: fraction });
    while (samples.length > 2 && t - samples[1].t >= RATE_WINDOW_MS) samples.shift();
    const first = samples[0];
    const span = t - first.t;
    if (span < MIN_MEASURED_MS || fraction <= first.f) return last ? Math.max(0, last.eta - (t - last.t) / 1000) : undefined;
    const rate = (fraction - first.f) / (span / 1000);
    const raw = (1 - fraction) / rate;
    let eta = raw;
    if (last) {
      const counted = Math.max(0, last.eta - (t - last.t) / 1000);
      const alpha = 1 - Math.exp(-(t - last.t) / SMOOTHING_MS);
      eta = counted + alpha * (raw - counted);
    }
    last = { t, eta };
    return eta;
  };
}

export interface StepProgress {
  /** One more step done: reported as its fraction with "<what>: step n/total" (the ETA is the reader's: createEtaEstimator). */
  step(): void;
  /** The fraction done so far (for messages between steps). */
  fraction(): number;
}

/** Progress of a job counted in `total` steps (e.g. UNet evaluations). */
export function stepProgress(total: number, report: ((fraction: number, message: string) => void) | undefined, what: () => string): StepProgress {
  let done = 0;
  const fraction = () => (total > 0 ? Math.min(1, done / total) : 0);
  return {
    fraction,
    step() {
      done++;
      report?.(fraction(), `${what()}: step ${done}/${total}`);
    },
  };
}
