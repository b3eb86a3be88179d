// npm run bench:profile — where crawlgate's CPU goes, per module and function, on one path.
//
// Inside workerd the clock does not advance while JavaScript runs (Spectre mitigation), so timing
// middleware from inside the Worker measures nothing; instead this samples the V8 CPU profiler of
// the running Worker through wrangler dev's DevTools inspector while autocannon drives one path,
// and prints self time grouped by source file and by function (top entries).
// Options: --path key|jwt|401|429 (default key), --duration S (default 6), --connections N (16).
import path from 'node:path';
import WebSocket from 'ws';
import autocannon from 'autocannon';
import { startBenchOrigin } from './origin.mjs';
import { ROOT, freePort, startWrangler } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const WHICH = arg('path', 'key');
const DURATION = Number(arg('duration', 6));
const CONNECTIONS = Number(arg('connections', 16));
const KEY = 'sk-bench-Q8mZ2vK7pX4rT9wL3nB6cY1hD5fJ0gS';
const LIMITED = 'sk-bench-limited-W3nB6cY1hD5fJ0gSQ8mZ2vK7pX4';
const BODY = JSON.stringify({ urls: ['https://example.com/'] });

const origin = await startBenchOrigin();
const inspector = await freePort();
const gw = await startWrangler({
  config: path.join(ROOT, 'wrangler.toml'),
  migrate: true,
  extraArgs: ['--inspector-port', String(inspector)],
  vars: {
    ENVIRONMENT: 'development',
    ORIGIN_URL: `http://127.0.0.1:${origin.port}`,
    ORIGIN_SECRET: 'bench-origin-secret-9f8e7d6c5b4a3f2e1d0c9b8a',
    JWT_SECRET_KEY: 'bench-jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
    API_KEY_SALT: 'bench-api-key-salt-1f2e3d4c5b6a7f8e9d0c1b2a3f4e',
    API_KEYS: JSON.stringify({
      bench: { key: KEY, rate_limit: '250/second;burst=1000', scopes: ['crawl'], max_concurrency: 10000 },
      limited: { key: LIMITED, rate_limit: '1/hour', scopes: ['crawl'] },
    }),
    IP_RATE_LIMIT: '999999999/minute',
    ROUTE_RATE_LIMITS: JSON.stringify({ api: '999999999/second', playground: '999999999/second', health: '999999999/second' }),
    TRUSTED_HOSTS: '',
  },
});
try {
  let headers = { 'Content-Type': 'application/json', 'X-API-Key': KEY };
  if (WHICH === 'jwt') {
    const r = await fetch(`${gw.base}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ api_token: KEY }),
    });
    headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${(await r.json()).access_token}` };
  } else if (WHICH === '401') headers['X-API-Key'] = 'sk-bench-wrong-Z2vK7pX4rT9wL3nB6cY1hD5fJ0gSQ8m';
  else if (WHICH === '429') headers['X-API-Key'] = LIMITED;
  await fetch(`${gw.base}/crawl`, { method: 'POST', headers, body: BODY }).then((r) => r.arrayBuffer());

  const targets = await (await fetch(`http://127.0.0.1:${inspector}/json`)).json();
  const target = targets.find((t) => /crawlgate/i.test(t.title ?? '') || /crawlgate/i.test(t.url ?? '')) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg);
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      pending.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  // wrangler's inspector proxy turned the runtime's Network domain on: one event per subrequest
  // through the proxy to Node (docs/performance.md "The collapse"); off while profiling.
  await send('Network.disable');
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 200 });
  await send('Profiler.start');
  const result = await autocannon({
    url: `${gw.base}/crawl`,
    method: 'POST',
    headers,
    body: BODY,
    connections: CONNECTIONS,
    duration: DURATION,
  });
  const {
    result: { profile },
  } = await send('Profiler.stop');
  ws.close();

  const dt = (profile.endTime - profile.startTime) / 1000 / profile.samples.length; // ms per sample
  const byFile = new Map();
  const byFn = new Map();
  let busy = 0;
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * dt;
    const f = node.callFrame;
    if (['(idle)', '(program)', '(garbage collector)', '(root)'].includes(f.functionName)) {
      byFn.set(f.functionName, (byFn.get(f.functionName) ?? 0) + ms);
      if (f.functionName !== '(idle)') busy += ms;
      continue;
    }
    busy += ms;
    const file = (f.url || '(native)').replace(/^.*\/(src|node_modules)\//, '$1/');
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    const fn = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + ms);
  }
  const n = result.requests.total;
  const top = (m, k) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  console.log(
    `path ${WHICH}: ${n} requests, ${result.requests.average.toFixed(0)} req/s; JS thread busy ${(busy / n).toFixed(2)} ms/request (sampled, wrangler dev, user Worker isolate only)`,
  );
  console.log('\nself time by file (ms per request):');
  for (const [k, v] of top(byFile, 15)) console.log(`  ${(v / n).toFixed(3).padStart(7)}  ${k}`);
  console.log('\nself time by function (ms per request):');
  for (const [k, v] of top(byFn, 25)) console.log(`  ${(v / n).toFixed(3).padStart(7)}  ${k}`);
} finally {
  gw.stop();
  await origin.close();
}
