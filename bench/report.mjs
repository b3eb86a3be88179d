// The table of `npm run bench` (bench/run.mjs): per row over the interleaved rounds, min and median,
// a flag on a round whose p50 is over 2x the row's median, and no figure from a run that failed.
import os from 'node:os';

/** A run is a figure only if it got answers, almost all of them the expected status. */
export function judgeRun(r, expect, duration) {
  r.unexpected = expect ? r.total - r.statuses['4xx'] : r.non2xx;
  const share = (n) => (r.total > 0 ? n / r.total : 1);
  if (r.total === 0) r.failed = 'no responses';
  else if (share(r.errors) > 0.01) r.failed = `${r.errors} connection errors/timeouts`;
  else if (share(r.unexpected) > 0.01) r.failed = `${r.unexpected} unexpected statuses`;
  else if (r.rps * duration < 1) r.failed = 'under one response';
  return r;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Summary of one row's runs (failed runs are counted, never averaged in). */
export function summarize(runs) {
  const ok = runs.map((r, i) => ({ ...r, round: i + 1 })).filter((r) => !r.failed);
  const p50 = median(ok.map((r) => r.p50));
  return {
    ok,
    failed: runs.map((r, i) => (r.failed ? `round ${i + 1}: ${r.failed}` : null)).filter(Boolean),
    rpsMedian: median(ok.map((r) => r.rps)),
    rpsMin: ok.length ? Math.min(...ok.map((r) => r.rps)) : NaN,
    p50,
    p95: median(ok.map((r) => r.p95)),
    p99: median(ok.map((r) => r.p99)),
    cpu: median(ok.map((r) => r.cpuMsPerReq)),
    flagged: ok.filter((r) => r.p50 > 2 * p50).map((r) => r.round),
    unexpected: runs.reduce((a, r) => a + (r.unexpected ?? 0), 0),
  };
}

/** Ratios to the floor: of the medians, and the worst round (row and floor of the same round). */
export function ratios(rowRuns, floorRuns, row, floor) {
  const perRound = rowRuns.map((r, i) => (r.failed || floorRuns[i]?.failed ? NaN : r.rps / floorRuns[i].rps)).filter(Number.isFinite);
  return { median: row.rpsMedian / floor.rpsMedian, worst: perRound.length ? Math.min(...perRound) : NaN, p50: row.p50 / floor.p50 };
}

export function renderReport({ targets, results, split, rounds, duration, connections, inspector }) {
  const floors = Object.fromEntries(targets.filter((t) => t.floor).map((t) => [t.floor, t.name]));
  const lines = [
    `# npm run bench — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, autocannon ${connections} connections, ${duration} s per run, ${rounds} interleaved rounds, loopback, tiny fixed-response origin; load average at the end ${os.loadavg()[0].toFixed(1)}.`,
    inspector
      ? 'Workers under the `wrangler dev` CLI (its DevTools inspector proxy on: see docs/performance.md "The collapse").'
      : 'Workers started through wrangler\'s API without the DevTools inspector proxy (bench/dev-server.mjs). "dev proxy" rows go through wrangler\'s proxy Worker; "workerd port" rows straight to the user Worker\'s own workerd socket.',
    'req/s and p50 are the median of the rounds, "min" the worst round; "vs empty" compares with the empty Worker (API-key header check + proxy) in the same mode: the medians, and the worst round (row ÷ floor of the same round). A round whose p50 is over 2× the row\'s median is flagged; a run that failed (no answers, > 1 % errors or unexpected statuses) is not a figure.',
    '',
    '| target | req/s | req/s min | p50 ms | p95 ms | p99 ms | CPU ms / req | vs empty req/s (median / worst round) | vs empty p50 | flagged rounds | not measured |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  const verdicts = [];
  for (const t of targets) {
    const runs = results.get(t.name) ?? [];
    const s = summarize(runs);
    const floorName = t.vs ? floors[t.vs] : null;
    let ratio = '';
    let p50x = '';
    if (floorName && s.ok.length) {
      const fr = results.get(floorName) ?? [];
      const r = ratios(runs, fr, s, summarize(fr));
      ratio = `${fmt(r.median, 2)}× / ${fmt(r.worst, 2)}×`;
      p50x = `${fmt(r.p50, 2)}×`;
      if (/API key \(workerd port\)/.test(t.name)) verdicts.push({ name: t.name, r, s, rounds });
    }
    if (!s.ok.length) {
      if (/API key \(workerd port\)/.test(t.name)) verdicts.push({ name: t.name, unmeasured: true });
      lines.push(`| ${t.name} | not measured | | | | | | | | | ${s.failed.join('; ')} |`);
      continue;
    }
    lines.push(
      `| ${t.name} | ${fmt(s.rpsMedian)} | ${fmt(s.rpsMin)} | ${fmt(s.p50, 1)} | ${fmt(s.p95, 1)} | ${fmt(s.p99, 1)} | ${t.pids().length ? fmt(s.cpu, 2) : '—'} | ${ratio} | ${p50x} | ${s.flagged.join(', ')} | ${s.failed.join('; ')} |`,
    );
  }
  for (const { name, r, s, rounds: n, unmeasured } of verdicts) {
    if (unmeasured) {
      lines.push('', `Target (${name}): no round measured: **not met**.`);
      continue;
    }
    const ok = r.median >= 0.5 && r.worst >= 0.4 && r.p50 <= 2 && s.flagged.length === 0 && s.ok.length === n;
    lines.push(
      '',
      `Target (${name}): ≥ 0.5× the empty Worker's req/s on the median (${fmt(r.median, 2)}×), ≥ 0.4× on the worst round (${fmt(r.worst, 2)}×), p50 ≤ 2× (${fmt(r.p50, 2)}×), no flagged or unmeasured round (${s.flagged.length + (n - s.ok.length)}): **${ok ? 'met' : 'not met'}**.`,
    );
  }
  if (split) {
    lines.push(
      '',
      `## CPU split, crawlgate \`POST /crawl\` with an API key (workerd port, ${split.requests} requests, V8 sampling profile of the Worker's isolate)`,
      '',
      "Locally the Durable Objects run in the Worker's own isolate, and the D1/KV simulators on the same workerd thread; on Cloudflare both run elsewhere. Shares are of the isolate's busy samples; sampled time is wall time (exact on a quiet machine, inflated by preemption on a busy one).",
      '',
      '| part | share of the isolate | sampled ms / req | CPU ms / req, at most (share × main-thread CPU) |',
      '|---|---:|---:|---:|',
      `| the Worker's own JavaScript and the natives it calls (crypto, streams, fetch): billed to the Worker on the edge | ${fmt(100 * split.shares.worker)} % | ${fmt(split.isolateBusyMs * split.shares.worker, 2)} | ${fmt(split.mainThreadMs * split.shares.worker, 2)} |`,
      `| local Durable Objects (RateLimiter, AuditLog, metrics: their JavaScript and SQLite): elsewhere on the edge | ${fmt(100 * split.shares.objects)} % | ${fmt(split.isolateBusyMs * split.shares.objects, 2)} | ${fmt(split.mainThreadMs * split.shares.objects, 2)} |`,
      `| GC and V8 internals of the shared isolate | ${fmt(100 * split.shares.gc)} % | ${fmt(split.isolateBusyMs * split.shares.gc, 2)} | ${fmt(split.mainThreadMs * split.shares.gc, 2)} |`,
      '',
      `CPU from /proc, per request: workerd's main thread (the isolate above plus the D1 and KV simulators and I/O) ${fmt(split.mainThreadMs, 2)} ms; its other threads (inspector and profiler, only while profiling) ${fmt(split.otherThreadsMs, 2)} ms.`,
      '',
      'Largest Worker functions (sampled self time, ms / req): ' +
        split.topWorker.map(([k, v]) => `${k.replace(/\|/g, '\\|')} ${fmt(v, 3)}`).join('; ') +
        '.',
    );
  }
  return lines.join('\n') + '\n';
}
