// Electron's utilityProcess adapted to the worker host's SpawnWorker: the same worker modules and
// message protocol as child_process.fork under Node; a crash is reported to the host, which restarts.
import { utilityProcess } from 'electron';
import type { SpawnWorker } from '../engine/jobs/worker-host';

export const spawnUtilityWorker: SpawnWorker = (modulePath, name) => {
  const child = utilityProcess.fork(modulePath, [], { serviceName: `Rerender ${name}`, stdio: 'inherit' });
  let exited = false;
  const exitListeners: Array<(code: number | null, signal: string | null) => void> = [];
  child.on('exit', (code) => {
    exited = true;
    for (const l of exitListeners) l(code, null);
  });
  return {
    send: (m) => { if (!exited) child.postMessage(m); },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => exitListeners.push(l),
    // kill() asks (SIGTERM); force ends it outright when it has not exited within the host's grace period.
    kill: (force) => {
      if (exited) return;
      if (force && child.pid) process.kill(child.pid, 'SIGKILL');
      else child.kill();
    },
    get pid() { return child.pid; },
  };
};
