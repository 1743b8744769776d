// Estimated time left from a stream of progress fractions (a measured rate, the estimate smoothed), and
// step counting for jobs measured in steps. The ETA is computed once, by whoever shows the progress:
// the editor's job list and the command line's progress line.

/** How far back the rate is measured: long enough to even out uneven steps, short enough to follow a change. */
const RATE_WINDOW_MS = 20_000;
/** ...and over at least this many advances, so that a job with slow steps is measured over several of them. */
const RATE_WINDOW_ADVANCES = 8;
/** No estimate until the rate has been measured over this long and this many advances (a job's first moments say little). */
const MIN_MEASURED_MS = 2_000;
const MIN_ADVANCES = 3;
/** Time constant of the smoothing of the estimate itself (in proportion, not seconds): it counts down, and moves toward new rates gradually. */
const SMOOTHING_MS = 5_000;
/**
 * However the rate changes, the estimate shown moves by at most a factor of 1 + elapsed / this between
 * two readings (beyond counting down), 5 % a second: a burst or a pause of the work never makes it
 * jump, and a lasting change of rate is followed within a minute (twice as long in 15 s).
 */
const MOVE_MS = 20_000;
/**
 * An interval between two advances counts in the rate as at most this many times the window's typical
 * time for its work, and at least that many times less: a one-off pause (a model loaded midway, a graph
 * compiled for the first later keyframe) or burst (work found done) says little about the work left,
 * while uneven steps and interleaved workers (a few times apart) count as they are. A pause still going
 * on counts in full.
 */
const PACE_SPREAD = 4;

/** Seconds of work the window's samples span up to `t`, each closed interval kept within PACE_SPREAD of the typical pace. */
function workingSeconds(samples: Array<{ t: number; f: number }>, t: number): number {
  const intervals = samples.slice(1).map((b, i) => ({ seconds: (b.t - samples[i].t) / 1000, work: b.f - samples[i].f }));
  const paces = intervals.map((i) => i.seconds / i.work).sort((a, b) => a - b);
  const typical = paces[Math.floor(paces.length / 2)];
  const closed = intervals.reduce((n, i) => n + Math.min(PACE_SPREAD * typical * i.work, Math.max(typical * i.work / PACE_SPREAD, i.seconds)), 0);
  return closed + (t - samples[samples.length - 1].t) / 1000;
}

/**
 * Returns a function that takes the current fraction and answers the seconds left, or undefined while
 * there is no measured rate yet ("estimating…"). The rate is measured from the first progress (set-up
 * time such as model loading does not count) over the last 20 s and at least the last 8 advances, up to
 * now (work that stalls lowers it; a one-off pause or burst, once over, counts as a few typical steps);
 * the estimate counts down between readings and follows a new rate with smoothing and a bounded step,
 * so it does not jump. Jobs keep their fractions in proportion to their work (steps weighted by cost,
 * work already done left out) so that the rate means something.
 */
export function createEtaEstimator(now: () => number = Date.now): (fraction: number) => number | undefined {
  const samples: Array<{ t: number; f: number }> = [];
  let advances = 0;
  let last: { t: number; eta: number } | undefined;
  return (fraction: number) => {
    const t = now();
    if (fraction <= 0) return undefined;
    if (fraction >= 1) return 0;
    const tail = samples[samples.length - 1];
    if (!tail || fraction > tail.f) {
      if (tail) advances++;
      samples.push({ t, f: fraction });
    }
    while (samples.length > RATE_WINDOW_ADVANCES + 1 && t - samples[1].t >= RATE_WINDOW_MS) samples.shift();
    const first = samples[0];
    const span = t - first.t;
    if (span < MIN_MEASURED_MS || advances < MIN_ADVANCES) return undefined;
    const rate = (fraction - first.f) / (workingSeconds(samples, t) || span / 1000);
    if (!(rate > 0)) return last && Math.max(0, last.eta - (t - last.t) / 1000); // (a fraction that went back)
    const raw = (1 - fraction) / rate;
    if (!last) {
      last = { t, eta: raw };
      return raw;
    }
    const elapsed = t - last.t;
    const counted = Math.max(1, last.eta - elapsed / 1000); // (at least a second: a job that overran its estimate still has some left)
    const alpha = 1 - Math.exp(-elapsed / SMOOTHING_MS);
    const smoothed = counted * (raw / counted) ** alpha;
    const step = 1 + elapsed / MOVE_MS;
    const eta = Math.min(counted * step, Math.max(counted / step, smoothed));
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
