// Summaries of a Chromium performance trace (browser.startTracing) for the benches: where the
// renderer's main thread spent its time (self time per trace event, and per JavaScript function from
// the sampling profiler), so a bench can say what its long frames were made of.

interface TraceEvent {
  name: string; ph: string; ts: number; dur?: number; pid: number; tid: number;
  args?: { name?: string; data?: { cpuProfile?: CpuProfileChunk; timeDeltas?: number[] } };
}
interface CpuProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; parent?: number }
interface CpuProfileChunk { nodes?: CpuProfileNode[]; samples?: number[] }

export const TRACE_CATEGORIES = [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame',
  'v8.execute', 'blink', 'cc', 'disabled-by-default-v8.cpu_profiler',
];

/** The renderer main thread: the thread named CrRendererMain with the most events. */
function mainThread(events: TraceEvent[]): { pid: number; tid: number } | undefined {
  const named = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  let best: { pid: number; tid: number } | undefined, bestCount = -1;
  for (const t of named) {
    const n = events.filter((e) => e.pid === t.pid && e.tid === t.tid && e.ph === 'X').length;
    if (n > bestCount) { best = { pid: t.pid, tid: t.tid }; bestCount = n; }
  }
  return best;
}

function top(map: Map<string, number>, n: number, total: number): string {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, ms]) => `    ${ms.toFixed(0).padStart(6)} ms ${((100 * ms) / Math.max(1, total)).toFixed(0).padStart(3)} %  ${k}`).join('\n');
}

/**
 * Self time per event name on the renderer's main thread (nested complete events subtract from their
 * parent), and self time per JavaScript function from the profiler's samples, as printable lines.
 */
export function summariseTrace(json: string, lines = 12): string {
  const events = (JSON.parse(json) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = mainThread(events);
  if (!main) return '  (no renderer main thread in the trace)';
  const own = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || (b.dur! - a.dur!));
  const self = new Map<string, number>();
  const stack: Array<{ end: number; name: string }> = [];
  let busy = 0;
  for (const e of own) {
    while (stack.length && stack[stack.length - 1].end <= e.ts) stack.pop();
    const ms = e.dur! / 1000;
    if (stack.length) self.set(stack[stack.length - 1].name, (self.get(stack[stack.length - 1].name) ?? 0) - ms);
    else busy += ms;
    self.set(e.name, (self.get(e.name) ?? 0) + ms);
    stack.push({ end: e.ts + e.dur!, name: e.name });
  }
  const span = own.length ? (own[own.length - 1].ts + own[own.length - 1].dur! - own[0].ts) / 1000 : 0;
  // JavaScript functions: the sampling profiler's chunks (ProfileChunk events) for the main thread's process.
  const nodes = new Map<number, CpuProfileNode>();
  const fnSelf = new Map<string, number>();
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || e.pid !== main.pid) continue;
    const data = e.args?.data;
    for (const n of data?.cpuProfile?.nodes ?? []) nodes.set(n.id, n);
    const samples = data?.cpuProfile?.samples ?? [], deltas = data?.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const n = nodes.get(samples[i]);
      if (!n) continue;
      const f = n.callFrame;
      const file = f.url ? f.url.split('/').pop() : '';
      const key = `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
      fnSelf.set(key, (fnSelf.get(key) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0) / 1000);
    }
  }
  const sampled = [...fnSelf.values()].reduce((a, b) => a + b, 0);
  for (const k of ['(idle)', '(program)']) fnSelf.delete(k);
  return `  main thread busy ${busy.toFixed(0)} ms of ${span.toFixed(0)} ms; self time by trace event:\n${top(self, lines, busy)}\n`
    + `  JavaScript self time by function (sampled ${sampled.toFixed(0)} ms, idle and program left out):\n${top(fnSelf, lines, busy)}`;
}
