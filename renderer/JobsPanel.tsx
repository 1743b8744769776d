// The jobs panel: every job with its progress bar, ETA and cancel (queued jobs: why they wait, and cancel);
// failures with the file and the fix; finished exports with "open folder"; a job on the render farm with
// each worker's part (who, what it runs, what it finished, its lost attempts).
import { useEffect, useState } from 'react';
import { jobEnded, jobsShown, type JobState } from '../preload/api';
import { call, editor, useEditor } from './store';

/**
 * Time left in words, rounded as far as an estimate deserves (5 s steps past a minute, whole minutes past
 * ten); "estimating…" until the engine has measured a rate.
 */
export function formatEta(seconds: number | undefined, fraction?: number): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return fraction === undefined || fraction < 1 ? 'estimating…' : '';
  if (seconds < 60) return `${Math.max(1, Math.ceil(seconds))} s left`;
  if (seconds < 600) {
    const s = Math.round(seconds / 5) * 5;
    return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''} left`;
  }
  if (seconds < 3600) return `${Math.round(seconds / 60)} min left`;
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)} h ${m % 60} min left`;
}

/**
 * A job's time left in words (formatEta), counted down each second until the engine's next estimate
 * comes: a job's steps, and so its estimates, may be seconds apart.
 */
export function EtaLeft({ seconds, fraction }: { seconds: number | undefined; fraction?: number }) {
  const [from, setFrom] = useState({ seconds, at: Date.now() });
  const [, setTick] = useState(0);
  if (from.seconds !== seconds) setFrom({ seconds, at: Date.now() }); // a new estimate counts from now
  const counting = seconds !== undefined;
  useEffect(() => {
    if (!counting) return undefined;
    const timer = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [counting]);
  const left = seconds === undefined || from.seconds !== seconds ? seconds : Math.max(Math.min(seconds, 1), seconds - (Date.now() - from.at) / 1000);
  return <>{formatEta(left, fraction)}</>;
}

/** Each farm worker's part in a job: host and worker, what it runs now, frames (or keyframes) done, failures. */
function FarmWorkers({ job }: { job: JobState }) {
  const farm = job.farm!;
  const unit = job.kind === 'render' ? 'keyframes' : 'frames';
  return (
    <div className="job-farm" data-testid="job-farm">
      <div className="muted">on the farm at {farm.url}{farm.workers.length ? '' : ': no worker yet (start one with rerender farm worker)'}</div>
      {farm.workers.length > 0 && (
        <table>
          <thead><tr><th>worker</th><th>doing</th><th>{unit} done</th><th>failures</th></tr></thead>
          <tbody>
            {farm.workers.map((w) => (
              <tr key={w.worker} data-testid="farm-worker" data-worker={w.worker} className={w.alive ? '' : 'gone'}>
                <td title={w.worker}>{w.host ? `${w.host} · ` : ''}{w.worker}{w.alive ? '' : ' (gone)'}</td>
                <td>{w.running.length ? w.running.map((r) => `${r.what} ${Math.round(r.fraction * 100)}%`).join(', ') : 'idle'}</td>
                <td>{w.done}</td>
                <td className={w.failures ? 'failures' : ''} title="attempts that ended without a result (failed, killed, stalled or handed back); another worker took the job">{w.failures}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A failure's raw words (ffmpeg's), folded away under the one-line message; they are in the log too. */
export function ErrorDetail({ detail }: { detail?: string }) {
  if (!detail) return null;
  return (
    <details className="job-detail" data-testid="job-error-detail">
      <summary>Details</summary>
      <pre>{detail}</pre>
    </details>
  );
}

function JobRow({ job }: { job: JobState }) {
  const electron = useEditor((s) => s.info?.mode === 'electron');
  return (
    <li className={`job ${job.status}${job.supersededBy ? ' superseded' : ''}`} data-testid={`job-${job.kind}`} data-status={job.status} {...(job.supersededBy ? { 'data-superseded': job.supersededBy } : {})}>
      <div className="job-head">
        <span className="job-title">{job.title}</span>
        <span className="job-status">{job.status === 'running' ? <>{Math.round(job.fraction * 100)}% · <EtaLeft seconds={job.etaSeconds} fraction={job.fraction} /></> : job.supersededBy ? 'failed · done since by a later run' : job.status}</span>
        {!jobEnded(job) && <button onClick={() => void call('jobs.cancel', { id: job.id })}>Cancel</button>}
      </div>
      {job.status === 'running' && <progress max={1} value={job.fraction} />}
      {job.message && !jobEnded(job) && <div className="job-message">{job.message}</div>}
      {job.farm && <FarmWorkers job={job} />}
      {job.error && !job.supersededBy && (
        <div className="job-error" role="alert">
          <div>{job.error.message}</div>
          {job.error.file && <div className="muted">file: {job.error.file}</div>}
          {job.error.fix && <div className="fix">What to do: {job.error.fix}</div>}
          <ErrorDetail detail={job.error.detail} />
        </div>
      )}
      {job.status === 'done' && job.note && <div className="job-note muted">{job.note}</div>}
      {job.status === 'done' && job.output && (
        <div className="job-output">
          <span className="muted">{job.output}</span>
          {electron && <button onClick={() => void call('shell.reveal', { path: job.output! })}>Open folder</button>}
        </div>
      )}
    </li>
  );
}

export function JobsPanel() {
  const jobs = useEditor((s) => s.jobs);
  const file = useEditor((s) => s.project?.file ?? null);
  const list = jobsShown(Object.values(jobs), file);
  return (
    <section className="jobs" data-testid="jobs">
      <header>
        <h3>Jobs</h3>
        {list.some(jobEnded) && (
          <button className="link" onClick={async () => {
            const left = await call('jobs.clearFinished', {});
            if (left) editor.set({ jobs: Object.fromEntries(left.map((j) => [j.id, j])) });
          }}>Clear finished</button>
        )}
      </header>
      {list.length === 0 ? <p className="muted">No jobs yet. Render a keyframe, propagate or export.</p> : <ul>{list.map((j) => <JobRow key={j.id} job={j} />)}</ul>}
    </section>
  );
}
