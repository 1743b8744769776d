// Render-farm figures on a private redis-server: propagation frames per second with 1, 2 and 4 worker
// processes against one local process, the scheduling overhead per job, and a simulated 15,000-frame
// project (1,500 segments of 10 tiny frames, written atomically) through 8 workers: throughput, Redis
// memory, and that no segment is lost or done twice. Wall times on a shared machine are noisy: each
// line also gives the CPU seconds spent (this process, and the worker processes from /proc) and the load.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { Queue, Worker } from 'bullmq';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { readProjectFile } from '../../main/engine/project/project-file';
import { parseRedisUrl, bullConnection } from '../../main/farm/connection';
import { FARM_PREFIX } from '../../main/farm/jobs';
import { propagateOnFarm } from '../../main/farm/submit';
import { writeFileAtomic } from '../../main/engine/fs/atomic';
import { redisMissing, startRedis } from '../helpers/redis';
import { makeFarmProject, startWorker, stopWorker } from '../helpers/farm';
import { tempDir } from '../helpers/media';

const SIM_QUEUE = 'farm-bench-sim';

/** CPU seconds a process has used so far (Linux /proc; NaN elsewhere). */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return Number.NaN;
  }
}
const ownCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const load = () => `load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;
const SIM_SEGMENTS = 1500, SIM_FRAMES = 10, SIM_WORKERS = 8;

/** One simulated worker process: each job writes its segment's tiny frames atomically and counts itself. */
async function simWorker(url: string, dir: string): Promise<void> {
  const connection = bullConnection(parseRedisUrl(url));
  const counter = new IORedis(connection);
  const frame = Buffer.alloc(64, 7);
  const w = new Worker(SIM_QUEUE, async (job) => {
    const { segment } = job.data as { segment: number };
    for (let f = 0; f < SIM_FRAMES; f++) await writeFileAtomic(path.join(dir, `${String(segment * SIM_FRAMES + f).padStart(5, '0')}.bin`), frame);
    await counter.hincrby('bench:done', String(segment), 1);
  }, { connection, prefix: FARM_PREFIX, concurrency: 4 });
  process.on('SIGINT', () => { void w.close().then(() => { counter.disconnect(); process.exit(0); }); });
  process.send?.('ready');
}

async function main(): Promise<void> {
  if (process.argv[2] === 'sim-worker') return simWorker(process.argv[3], process.argv[4]);
  const why = redisMissing();
  if (why) { console.log(`skipped: ${why}`); return; }
  const redis = await startRedis();
  try {
    console.log(`cpus: ${os.cpus().length} (on 2 cores expect no gain past 2 worker processes)`);
    const base = tempDir('rerender-bench-farm-');
    fs.mkdirSync(path.join(base, 'template'));
    const frames = 33, keys = [0, 4, 8, 12, 16, 20, 24, 28, 32];
    const { file } = await makeFarmProject(path.join(base, 'template'), frames, keys, 128);
    const copy = (name: string) => {
      fs.cpSync(path.join(base, 'template'), path.join(base, name), { recursive: true });
      return path.join(base, name, path.basename(file));
    };
    const propagated = frames - keys.length;
    const localFile = copy('local');
    let t = performance.now();
    let cpu = ownCpu();
    await propagateProject(localFile, await readProjectFile(localFile), { workers: 1 });
    const localS = (performance.now() - t) / 1000;
    console.log(`project: ${frames} frames at 128 px short side, ${keys.length - 1} segments of 3 frames; local (1 process): ${(propagated / localS).toFixed(2)} frames/s, ${localS.toFixed(1)} s wall, ${(ownCpu() - cpu).toFixed(1)} CPU s (${load()})`);
    const connection = parseRedisUrl(redis.url);
    let oneWorkerS = 0;
    for (const n of [1, 2, 4]) {
      const f = copy(`farm-${n}`);
      const ws = Array.from({ length: n }, () => startWorker(['--redis', redis.url]));
      await Promise.all(ws.map((w) => w.waitFor(/farm worker .* on /)));
      const workerCpu = () => ws.reduce((a, w) => a + cpuSecondsOf(w.child.pid), 0);
      t = performance.now();
      cpu = ownCpu();
      const before = workerCpu();
      await propagateOnFarm(f, { connection, pollMs: 50 });
      const s = (performance.now() - t) / 1000;
      if (n === 1) oneWorkerS = s;
      console.log(`farm, ${n} worker process${n > 1 ? 'es' : ''}: ${(propagated / s).toFixed(2)} frames/s (${(localS / s).toFixed(2)}× one local process), ${s.toFixed(1)} s wall, workers ${(workerCpu() - before).toFixed(1)} CPU s, submitter ${(ownCpu() - cpu).toFixed(1)} CPU s (${load()})`);
      await Promise.all(ws.map(stopWorker));
    }
    console.log(`farm with 1 worker vs local, per segment: ${(((oneWorkerS - localS) * 1000) / (keys.length - 1)).toFixed(0)} ms (noise on a loaded machine dominates)`);
    {
      // The queue's own cost per job: empty jobs one after another through one worker.
      const bconn = bullConnection(connection);
      const q = new Queue('farm-bench-noop', { connection: bconn, prefix: FARM_PREFIX });
      let finished = 0;
      const all = new Promise<void>((res) => {
        const w = new Worker('farm-bench-noop', async () => undefined, { connection: bconn, prefix: FARM_PREFIX, concurrency: 1 });
        w.on('completed', () => { if (++finished === 300) void w.close().then(res); });
      });
      t = performance.now();
      cpu = ownCpu();
      for (let i = 0; i < 300; i++) await q.add('noop', { i }, { jobId: `noop-${i}` });
      await all;
      console.log(`scheduling overhead per job (add + take + complete, empty jobs, 1 worker): ${((performance.now() - t) / 300).toFixed(1)} ms wall, ${(((ownCpu() - cpu) * 1000) / 300).toFixed(1)} ms CPU of this process (${load()})`);
      await q.close();
    }

    // The queue under a long project: 1,500 jobs through 8 worker processes.
    const simDir = path.join(base, 'sim');
    fs.mkdirSync(simDir);
    const bconn = bullConnection(connection);
    const queue = new Queue(SIM_QUEUE, { connection: bconn, prefix: FARM_PREFIX });
    const client = new IORedis(bconn);
    const kids = Array.from({ length: SIM_WORKERS }, () => spawn(process.execPath, ['--import', 'tsx', __filename, 'sim-worker', redis.url, simDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await Promise.all(kids.map((k) => new Promise((res) => k.once('message', res))));
    const memBefore = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
    const simCpu = () => kids.reduce((a, k) => a + cpuSecondsOf(k.pid), 0);
    const simBefore = simCpu();
    t = performance.now();
    await queue.addBulk(Array.from({ length: SIM_SEGMENTS }, (_, i) => ({ name: 'sim', data: { segment: i }, opts: { jobId: `sim-${i}`, attempts: 3, removeOnComplete: { count: 100_000 } } })));
    let peak = 0;
    for (;;) {
      const c = await queue.getJobCounts('completed', 'failed');
      peak = Math.max(peak, Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]));
      if (c.completed + c.failed >= SIM_SEGMENTS) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const simS = (performance.now() - t) / 1000;
    const done = await client.hgetall('bench:done');
    const counts = Object.values(done).map(Number);
    const lost = SIM_SEGMENTS - counts.length, twice = counts.filter((n) => n > 1).length;
    const files = fs.readdirSync(simDir).filter((n) => n.endsWith('.bin')).length;
    console.log(`simulated ${SIM_SEGMENTS * SIM_FRAMES} frames (${SIM_SEGMENTS} segments) through ${SIM_WORKERS} workers: ${(SIM_SEGMENTS / simS).toFixed(0)} jobs/s, ${((SIM_SEGMENTS * SIM_FRAMES) / simS).toFixed(0)} frames/s; Redis memory ${(memBefore / 2 ** 20).toFixed(1)} MiB before, ${(peak / 2 ** 20).toFixed(1)} MiB peak; ${lost} segments lost, ${twice} done twice, ${files} frame files; workers ${(simCpu() - simBefore).toFixed(1)} CPU s (${load()})`);
    for (const k of kids) k.kill('SIGINT');
    await Promise.all(kids.map((k) => new Promise((res) => k.once('exit', res))));
    await queue.close();
    client.disconnect();
    fs.rmSync(base, { recursive: true, force: true });
  } finally {
    await redis.stop();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
