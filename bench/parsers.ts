/**
 * `npm run bench:parsers`: MB/s of the edge page pipeline (parse → extract + cleaned HTML →
 * markdown → citations → fit markdown: `buildResult`, as both edge engines run it) on an ordinary
 * article page and on each hostile shape of test/helpers/hostile-pages.ts. The pipeline is plain
 * TypeScript (no Workers API), so it runs here under Node's V8, the engine workerd embeds.
 * Options: `--kb N` page size (default 1024), `--rounds N` (best of, default 3), `--shape NAME`,
 * `--cpu` (time by process CPU time, not the wall clock).
 * Prints a table and whether every shape is within 3× of the ordinary page (≥ 1/3 of its MB/s); the
 * ordinary page is measured before and after the shapes and its better figure is the baseline.
 * Profile one shape: `node --import tsx --cpu-prof bench/parsers.ts --shape unclosed-p`.
 */
import { buildResult } from '../src/engines/result';
import { HOSTILE_SHAPES, ordinaryPage } from '../test/helpers/hostile-pages';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const kb = Number(arg('kb', '1024'));
const rounds = Number(arg('rounds', '3'));
const only = arg('shape', '');
// --cpu: time by the process's CPU time (user + system) instead of the wall clock — steadier on a
// shared, loaded machine (it still counts the garbage collector's helper threads)
const cpu = process.argv.includes('--cpu');
const now = cpu
  ? () => {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1000;
    }
  : () => performance.now();

async function measure(html: string): Promise<{ mbps: number; ms: number; warnings: string }> {
  let best = Infinity;
  let warnings = '';
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    const result = await buildResult({
      url: 'https://bench.test/page',
      finalUrl: 'https://bench.test/page',
      status: 200,
      html,
      headers: {},
      query: undefined,
    });
    const ms = now() - t0;
    if (ms < best) best = ms;
    warnings = (result.warnings ?? []).map((w) => w.code).join(' ');
  }
  return { mbps: html.length / 1e6 / (best / 1000), ms: best, warnings };
}

const bytes = kb * 1024;
// warm the JIT on a small ordinary page first, so the first shape is not billed for compilation
for (let i = 0; i < 5; i++)
  await buildResult({
    url: 'https://bench.test/',
    finalUrl: 'https://bench.test/',
    status: 200,
    html: ordinaryPage(64 * 1024),
    headers: {},
  });

const ordinary = await measure(ordinaryPage(bytes));
const rows: Array<[string, number, number, number, string]> = [['ordinary', bytes, ordinary.ms, ordinary.mbps, ordinary.warnings]];
let worst = Infinity;
for (const [name, make] of Object.entries(HOSTILE_SHAPES)) {
  if (only && name !== only) continue;
  const html = make(bytes);
  const m = await measure(html);
  rows.push([name, html.length, m.ms, m.mbps, m.warnings]);
  worst = Math.min(worst, m.mbps / ordinary.mbps);
}
// the ordinary page once more after the shapes, its best time the baseline: on a busy machine a
// slow first measurement would otherwise flatter every ratio
const again = await measure(ordinaryPage(bytes));
if (again.mbps > ordinary.mbps) {
  worst *= ordinary.mbps / again.mbps;
  Object.assign(ordinary, again);
  rows[0] = ['ordinary', bytes, ordinary.ms, ordinary.mbps, ordinary.warnings];
}
console.log(`| page (${kb} KiB, best of ${rounds}${cpu ? ', CPU time' : ''}) | bytes | ms | MB/s | × ordinary | caps applied |`);
console.log('|---|---:|---:|---:|---:|---|');
for (const [name, size, ms, mbps, warnings] of rows) {
  console.log(`| ${name} | ${size} | ${ms.toFixed(1)} | ${mbps.toFixed(2)} | ${(mbps / ordinary.mbps).toFixed(2)} | ${warnings} |`);
}
const ok = worst >= 1 / 3;
console.log(`\nslowest shape: ${worst.toFixed(2)}× the ordinary page's MB/s — ${ok ? 'within' : 'NOT within'} 3× (target ≥ 0.33×)`);
process.exitCode = ok ? 0 : 1;
