// Prints the closing line CI reads: "tests: N passed, N failed[, N skipped]" from vitest's JSON report.
import { readFileSync } from 'node:fs';
const r = JSON.parse(readFileSync(new URL('./test-results.json', import.meta.url), 'utf8'));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (r.numTotalTests === 0) process.exit(1);
