// Progress on stderr for long CLI commands: percentage, message and ETA, one line updated in place on a TTY.
import type { ProgressFn } from '../../native-models/src/errors';
import { createEtaEstimator } from '../engine/jobs/eta';

export function cliProgress(label: string): ProgressFn & { done(): void } {
  const eta = createEtaEstimator();
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  let lastPercent = -1;
  const fn = ((fraction: number, message?: string) => {
    const seconds = eta(fraction);
    const now = Date.now();
    const percent = Math.floor(fraction * 100);
    if (!tty && percent === lastPercent) return;
    if (tty && now - lastPrint < 100 && fraction < 1) return;
    lastPrint = now;
    lastPercent = percent;
    const etaText = seconds !== undefined && fraction < 1 ? `, ${formatSeconds(seconds)} left` : '';
    const line = `${label}: ${percent}%${message ? ` ${message}` : ''}${etaText}`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  }) as ProgressFn & { done(): void };
  fn.done = () => { if (tty) process.stderr.write('\n'); };
  return fn;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
