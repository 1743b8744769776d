// Which sampler steps a constraint acts on (docs/METHOD.md §3.1–§3.5): windows are fractions of the step
// count S applied to absolute step indices s = 0 … S−1, so runs with different SDEdit start steps agree.

export interface StepWindow { start: number; end: number }

/**
 * Closed window: start·S ≤ s ≤ end·S (cross-frame (0, 1) = every step; shape (0, 0.1) = s ≤ 0.1·S, which
 * an SDEdit run only reaches when its start step falls there; colour (0.8, 1) = the last fifth).
 * A window whose start is after its end is off.
 */
export function inWindow(step: number, steps: number, w: StepWindow): boolean {
  if (w.start > w.end) return false;
  return step >= w.start * steps - 1e-9 && step <= w.end * steps + 1e-9;
}

/** Open window, start·S < s < end·S: the pixel-aware fusion's "strictly inside" (§3.3). */
export function strictlyInWindow(step: number, steps: number, w: StepWindow): boolean {
  if (w.start > w.end) return false;
  return step > w.start * steps + 1e-9 && step < w.end * steps - 1e-9;
}
