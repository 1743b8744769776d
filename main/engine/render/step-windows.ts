// Which sampler steps a constraint acts on (docs/METHOD.md §3.1–§3.5). A window is a pair of fractions of
// the denoising that actually happens: an SDEdit run executes the N = S − s* steps s* … S−1, and a window
// (a, b) covers the executed steps whose position j = s − s* satisfies a·N ≤ j ≤ b·N (closed) or
// a·N < j < b·N (strictly inside, pixel-aware fusion). From noise (s* = 0) this is the spec's absolute
// reading; at the default strength 0.75 (s* = 5 of 20) shape-aware fusion acts on steps 5–6, which the
// literal absolute reading (s ≤ 0.1·S = 2) never reaches (render/README.md "Step windows" says why).
// Steps stay absolute everywhere else (caches, timesteps), so runs with different s* still line up.

export interface StepWindow { start: number; end: number }

/** The steps a run executes: s* = `startStep` … `steps` − 1. */
export interface ExecutedSteps { startStep: number; steps: number }

function position(step: number, run: ExecutedSteps): { j: number; n: number } {
  return { j: step - run.startStep, n: run.steps - run.startStep };
}

/**
 * Closed window over the executed steps: a·N ≤ s − s* ≤ b·N (cross-frame (0, 1) = every step; shape
 * (0, 0.1) = the first tenth of them; colour (0.8, 1) = the last fifth). Off for a step the run does not
 * execute, and for a window whose start is after its end.
 */
export function inWindow(step: number, run: ExecutedSteps, w: StepWindow): boolean {
  const { j, n } = position(step, run);
  if (w.start > w.end || j < 0 || j >= n) return false;
  return j >= w.start * n - 1e-9 && j <= w.end * n + 1e-9;
}

/** Open window, a·N < s − s* < b·N: the pixel-aware fusion's "strictly inside" (§3.3). */
export function strictlyInWindow(step: number, run: ExecutedSteps, w: StepWindow): boolean {
  const { j, n } = position(step, run);
  if (w.start > w.end || j < 0 || j >= n) return false;
  return j > w.start * n + 1e-9 && j < w.end * n - 1e-9;
}
