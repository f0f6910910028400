/**
 * `npm run bench:fuzz [-- MODEL] [--cases 5000 --seed 1 --concurrency 4 --wall-s 1200 --bomb-mb 1024 --idle-hold-s 65]`
 * (or FUZZ_CASES, FUZZ_SEED, FUZZ_MODEL, FUZZ_CONCURRENCY, FUZZ_WALL_S, FUZZ_BOMB_MB, FUZZ_IDLE_HOLD_S): the seeded,
 * bounded fuzzer of fuzz.ts over every entry point of `findstroke serve`. Writes bench/results/fuzz.json
 * and exits 1 when it found a crash, an auth bypass, or a valid instance lost or duplicated. Without
 * MODEL, the tests' tiny model (trained once, then cached) is served.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { triageTestModel } from '../../test/server/helpers/model.js';
import { FUZZ_DEFAULTS, runFuzz } from './fuzz.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cases: { type: 'string', default: process.env.FUZZ_CASES ?? '5000' },
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? '1' },
    concurrency: { type: 'string', default: process.env.FUZZ_CONCURRENCY ?? String(FUZZ_DEFAULTS.concurrency) },
    'wall-s': { type: 'string', default: process.env.FUZZ_WALL_S ?? String(FUZZ_DEFAULTS.wallCapMs / 1000) },
    'bomb-mb': { type: 'string', default: process.env.FUZZ_BOMB_MB ?? String(FUZZ_DEFAULTS.bombBytes / 2 ** 20) },
    'idle-hold-s': { type: 'string', default: process.env.FUZZ_IDLE_HOLD_S ?? String(FUZZ_DEFAULTS.idleHoldMs / 1000) },
  },
});
const numbers = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, Number(value)]));
for (const [name, value] of Object.entries(numbers)) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number >= 0, got '${values[name as keyof typeof values]}'`);
}

const modelPath = positionals[0] ?? process.env.FUZZ_MODEL ?? (await triageTestModel());
console.log(`fuzzing findstroke serve: ${numbers.cases} cases, seed ${numbers.seed}, ${numbers.concurrency} at a time, model ${modelPath}`);
const report = await runFuzz({
  seed: numbers.seed,
  cases: numbers.cases,
  modelPath,
  concurrency: numbers.concurrency,
  wallCapMs: numbers['wall-s'] * 1000,
  bombBytes: numbers['bomb-mb'] * 2 ** 20,
  idleHoldMs: numbers['idle-hold-s'] * 1000,
  log: (line) => console.log(line),
});

const results = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(join(results, 'fuzz.json'), JSON.stringify(report, null, 2) + '\n');
const r = report;
console.log(
  `${r.cases} cases in ${r.wall_s} s${r.wall_cap_reached ? ' (wall-time cap reached)' : ''}; refusals ${r.refusals.total} (${r.refusals.without_reason} without a reason)`,
);
console.log(`crashes ${r.crashes}, stalls ${r.stalls} (longest ${r.longest_stall_ms} ms), auth bypasses ${r.auth_bypasses}, unanswered ${r.unanswered}`);
console.log(`valid instances ${r.valid_instances.sent}: lost ${r.lost}, duplicated ${r.duplicated}`);
console.log(`changed re-sends dropped ${r.changed_resends_dropped}, other patients merged ${r.patient_mismatches_merged}, bombs accepted ${r.bombs_accepted}`);
console.log(
  `inbox files stuck ${r.inbox_stuck}, idle connections held ${r.idle_connections_held}; RSS ${r.rss_before_mb} -> ${r.rss_after_mb} MiB (peak ${r.rss_peak_mb})`,
);
console.log(`written to ${join(results, 'fuzz.json')}`);
if (r.crashes > 0 || r.auth_bypasses > 0 || r.lost > 0 || r.duplicated > 0) process.exitCode = 1;
