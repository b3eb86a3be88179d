// A local dev server for the benchmarks: `wrangler dev` without its DevTools inspector.
//
// `wrangler dev` (4.x) always starts an InspectorProxyWorker that subscribes to the user Worker's
// inspector (Runtime + Network domains). With no DevTools window attached it keeps every message
// in an in-memory buffer that is never drained, and forwards each one to the wrangler Node process
// as a "debug-log" HTTP request — three or more per subrequest. Under load that is more CPU than the
// Worker itself and a heap that grows without bound, on the same cores (docs/performance.md
// "The collapse"). The CLI has no switch for it; wrangler's own API does (`dev.inspector: false`).
//
// Usage: node bench/dev-server.mjs <config> <port> <persist-dir> <vars-json> [inspector-port]
// With an inspector port the proxy is on (for a CPU profile: the profiler turns the Network domain
// off first, bench/cpu-split.mjs). Prints "ready" once the server answers; stops on SIGTERM.
import { unstable_startWorker } from 'wrangler';

const [config, port, persist, varsJson, inspectorPort] = process.argv.slice(2);
const vars = JSON.parse(varsJson ?? '{}');
const bindings = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, { type: 'plain_text', value: String(v) }]));

const worker = await unstable_startWorker({
  config,
  bindings,
  dev: {
    inspector: inspectorPort ? { hostname: '127.0.0.1', port: Number(inspectorPort) } : false,
    persist,
    logLevel: 'error',
    watch: false,
    liveReload: false,
    server: { hostname: '127.0.0.1', port: Number(port) },
  },
});
await worker.ready;
console.log('ready');

const stop = async () => {
  try {
    await worker.dispose();
  } finally {
    process.exit(0);
  }
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
