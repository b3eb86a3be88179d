// The CPU split of `npm run bench`: where a request's CPU goes locally, and which part the edge pays.
//
// Locally the Worker, its Durable Objects (RateLimiter, AuditLog, MetricsAggregator — the same
// script, so the same V8 isolate) and the D1/KV simulators share one workerd process; on Cloudflare
// the objects and D1 run elsewhere. This samples the V8 profiler of the Worker's isolate through the
// inspector (with the Network domain off, so the inspector adds nothing per subrequest) while load
// runs, and assigns each sample by its stack: a sample with any frame from a Durable Object module
// (the bundle marks every module with a `// src/...` comment) is the objects' (their JavaScript and
// the SQLite calls they make); other JavaScript and the natives it calls are the Worker's own; GC is
// reported apart. The D1/KV simulators are other isolates on the same thread: the profiler does not
// see them, the thread's CPU (from /proc) includes them.
import { readFileSync, readdirSync } from 'node:fs';
import WebSocket from 'ws';

/** Modules whose code runs inside a Durable Object (locally in the Worker's isolate). */
export const OBJECT_MODULES = [
  /src\/ratelimit\/rate-limiter-do\.ts$/,
  /src\/ratelimit\/gcra\.ts$/,
  /src\/audit\/audit-log-do\.ts$/,
  /src\/audit\/audit-chain\.ts$/,
  /src\/audit\/hash-chain\.ts$/,
  /src\/metrics\/metrics-do\.ts$/,
  /src\/auth\/refresh-family-do\.ts$/,
  /src\/jobs\/.*-do\.ts$/,
];

/** Line → module map of an esbuild bundle (its `// path` comments at the start of each module). */
function moduleLines(bundleText) {
  const starts = [];
  bundleText.split('\n').forEach((line, i) => {
    const m = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(line);
    if (m) starts.push([i, m[1]]);
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = '(bundle)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid][0] <= line) {
        found = starts[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** Connects to the first inspector target on `port`; returns send() and close(). */
async function connect(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => /crawlgate/i.test(`${t.title} ${t.url}`)) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  let id = 0;
  const pending = new Map();
  const scripts = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg);
    if (msg.method === 'Debugger.scriptParsed') scripts.set(msg.params.url, msg.params);
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      pending.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** CPU seconds per thread of one process (from /proc). */
export function threadCpu(pid) {
  const out = new Map();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        out.set(t, (Number(f[11]) + Number(f[12])) / 100);
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return out;
}

/**
 * Profiles the isolate while `drive()` runs (it returns the number of requests served): the shares
 * of the isolate's busy samples (Worker / objects / GC), its sampled busy time per request, and
 * from /proc the CPU of workerd's busiest thread (the isolate's, which also runs the D1 and KV
 * simulators) and of its other threads (inspector and profiler while profiling).
 */
export async function cpuSplit({ inspectorPort, drive, pid }) {
  const insp = await connect(inspectorPort);
  await insp.send('Network.disable');
  await insp.send('Profiler.enable');
  await insp.send('Profiler.setSamplingInterval', { interval: 250 });
  await insp.send('Profiler.start');
  const t0 = threadCpu(pid);
  const requests = await drive();
  const t1 = threadCpu(pid);
  const {
    result: { profile },
  } = await insp.send('Profiler.stop');
  // Module boundaries come from the bundle's own text (esbuild's `// src/...` comments).
  await insp.send('Debugger.enable');
  const sources = new Map();
  for (const n of profile.nodes) {
    const id = n.callFrame.scriptId;
    if (!n.callFrame.url || sources.has(id)) continue;
    const r = await insp.send('Debugger.getScriptSource', { scriptId: id });
    sources.set(id, moduleLines(r.result?.scriptSource ?? ''));
  }
  await insp.send('Debugger.disable');
  insp.close();

  const deltas = [...t1.entries()].map(([t, v]) => v - (t0.get(t) ?? 0)).sort((a, b) => b - a);
  const jsThread = deltas[0] ?? 0;
  const otherThreads = deltas.slice(1).reduce((a, b) => a + b, 0);

  const parent = new Map();
  const byId = new Map();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const moduleOf = (n) =>
    n.callFrame.url ? (sources.get(n.callFrame.scriptId) ?? (() => n.callFrame.url))(n.callFrame.lineNumber) : '(native)';
  const inObject = new Map();
  const isObject = (id) => {
    if (inObject.has(id)) return inObject.get(id);
    const n = byId.get(id);
    const p = parent.get(id);
    const v = OBJECT_MODULES.some((re) => re.test(moduleOf(n))) || (p !== undefined && isObject(p));
    inObject.set(id, v);
    return v;
  };
  const sums = { worker: 0, objects: 0, gc: 0 };
  const workerFns = new Map();
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  for (const [id, hits] of counts) {
    const n = byId.get(id);
    const name = n.callFrame.functionName;
    if (name === '(idle)') continue;
    if (name === '(garbage collector)' || name === '(program)' || name === '(root)') sums.gc += hits;
    else if (isObject(id)) sums.objects += hits;
    else {
      sums.worker += hits;
      const key = `${name || '(anonymous)'} ${moduleOf(n).replace(/^src\//, '')}`;
      workerFns.set(key, (workerFns.get(key) ?? 0) + hits);
    }
  }
  const busy = Math.max(1, sums.worker + sums.objects + sums.gc);
  const perReq = (seconds) => (seconds * 1000) / Math.max(1, requests);
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const sampleMs = wallMs / Math.max(1, profile.samples.length);
  return {
    requests,
    shares: { worker: sums.worker / busy, objects: sums.objects / busy, gc: sums.gc / busy },
    // Sampled time is wall time: on a quiet machine it is the isolate's CPU; on a busy one preempted
    // time is counted too. The main thread also runs the D1/KV simulators (other isolates).
    isolateBusyMs: (busy * sampleMs) / Math.max(1, requests),
    mainThreadMs: perReq(jsThread),
    otherThreadsMs: perReq(otherThreads),
    topWorker: [...workerFns.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([k, v]) => [k, (v * sampleMs) / Math.max(1, requests)]),
  };
}
