// Process helpers for the benchmarks: start `wrangler dev`, find the user Worker's own workerd
// port, read CPU time of a process tree, drive load with autocannon.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export const ROOT = path.resolve(import.meta.dirname, '..');
const ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: 'true' };

export async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** All descendant pids of `root` (inclusive), from /proc. */
export function processTree(root) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {}
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * CPU seconds (user + system) of every process that runs under `root` while the meter is on,
 * including processes that exit meanwhile (a browser's renderers): each process's time is sampled
 * every 100 ms and kept by pid and start time, so at most its last 100 ms can be missed.
 */
export function treeCpuMeter(root) {
  const seen = new Map();
  const sample = () => {
    for (const pid of processTree(root)) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const key = `${pid}:${f[19]}`;
        seen.set(key, Math.max(Number(f[11]) + Number(f[12]), seen.get(key) ?? 0));
      } catch {}
    }
  };
  const timer = setInterval(sample, 100);
  sample();
  return {
    /** Seconds so far (USER_HZ 100). */
    total: () => {
      sample();
      let ticks = 0;
      for (const t of seen.values()) ticks += t;
      return ticks / 100;
    },
    stop: () => clearInterval(timer),
  };
}

/** CPU seconds (user + system) used so far by the given pids. */
export function cpuSeconds(pids) {
  const hz = 100;
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks / hz;
}

function commOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Listening TCP ports owned by the given pids. */
export function listeningPorts(pids) {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  const ports = [];
  for (const line of out.split('\n')) {
    const m = /127\.0\.0\.1:(\d+)|\[::1?\]:(\d+)|\*:(\d+)|0\.0\.0\.0:(\d+)/.exec(line);
    const pidm = [...line.matchAll(/pid=(\d+)/g)].map((x) => Number(x[1]));
    if (m && pidm.some((p) => pids.includes(p))) ports.push(Number(m[1] ?? m[2] ?? m[3] ?? m[4]));
  }
  return [...new Set(ports)];
}

/**
 * Starts `wrangler dev` for a config with vars; resolves once it is ready.
 * Returns the proxy port, the user Worker's own workerd port (found by probing), and a stop().
 * `inspector: false` starts it through wrangler's API without the DevTools inspector proxy
 * (bench/dev-server.mjs), unless `inspectorPort` asks for one (profiling); `extraArgs` then do not apply.
 */
export async function startWrangler({
  config,
  vars,
  persist,
  probePath = '/health',
  migrate = false,
  extraArgs = [],
  inspector = true,
  inspectorPort,
}) {
  const persistTo = persist ?? mkdtempSync(path.join(tmpdir(), 'cg-bench-'));
  if (migrate) {
    const r = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo, '--config', config], {
      cwd: ROOT,
      env: ENV,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`migrations failed: ${r.stderr}`);
  }
  const port = await freePort();
  let child;
  if (inspector) {
    const args = [
      'wrangler',
      'dev',
      '--config',
      config,
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      persistTo,
      '--log-level',
      'error',
    ];
    for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
    args.push(...extraArgs);
    child = spawn('npx', args, { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } else {
    // wrangler dev without its DevTools inspector proxy (bench/dev-server.mjs says why).
    child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bench/dev-server.mjs'),
        config,
        String(port),
        persistTo,
        JSON.stringify(vars),
        ...(inspectorPort ? [String(inspectorPort)] : []),
      ],
      { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
  }
  // Keep the tail for error messages; everything goes to a log file for diagnosis.
  let output = '';
  const logFile = path.join(persistTo, 'wrangler.log');
  const keep = (d) => {
    appendFileSync(logFile, d);
    output = (output + d).slice(-65536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (Date.now() - started > 120_000) throw new Error(`wrangler dev did not start:\n${output}`);
    try {
      const r = await fetch(base + probePath);
      await r.arrayBuffer();
      if (r.status < 500) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  const pids = processTree(child.pid);
  const workerd = pids.filter((p) => commOf(p) === 'workerd');
  let direct = null;
  let directPid = null;
  const proxyRes = await fetch(base + probePath);
  const marker = proxyRes.headers.get('x-request-id');
  await proxyRes.arrayBuffer();
  for (const p of listeningPorts(workerd)) {
    if (p === port) continue;
    try {
      const r = await fetch(`http://127.0.0.1:${p}${probePath}`, { signal: AbortSignal.timeout(1000) });
      const body = await r.text();
      if (r.status < 500 && (marker ? r.headers.get('x-request-id') : body.length > 0)) {
        direct = p;
        directPid = workerd.find((pid) => listeningPorts([pid]).includes(p)) ?? null;
        break;
      }
    } catch {}
  }
  return {
    base,
    logFile,
    direct: direct ? `http://127.0.0.1:${direct}` : null,
    /** The workerd process that runs the user Worker (and, locally, its objects, D1 and KV). */
    directPid,
    pids: () => processTree(child.pid),
    stop: () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
    },
  };
}

/** One autocannon run; returns req/s, latency percentiles, error counts and CPU per request. */
export async function load({ url, method = 'GET', headers = {}, body, connections = 32, duration = 8, cpuPids = () => [] }) {
  const before = cpuSeconds(cpuPids());
  // Exact percentiles from every response time (autocannon's summary has no p95).
  const times = [];
  const instance = autocannon({ url, method, headers, body, connections, duration, pipelining: 1 });
  instance.on('response', (_client, _status, _bytes, ms) => times.push(ms));
  const result = await instance;
  const cpu = cpuSeconds(cpuPids()) - before;
  const total = result.requests.total;
  times.sort((a, b) => a - b);
  const pct = (p) => (times.length ? times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] : NaN);
  return {
    rps: total / duration,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    total,
    statuses: { '2xx': result['2xx'], '4xx': result['4xx'], '5xx': result['5xx'] },
    non2xx: result.non2xx + result.errors + result.timeouts,
    errors: result.errors + result.timeouts,
    cpuMsPerReq: total > 0 ? (cpu * 1000) / total : NaN,
  };
}

/** Resident memory of a process tree in MB (from /proc). */
export function rssMb(pids) {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // process gone
    }
  }
  return kb / 1024;
}
