import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/cli/launch.js';
import { rankEnv, run, type Exit } from '../helpers/ranks.js';

const WORKER = fileURLToPath(new URL('../helpers/data-parallel-worker.ts', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('../helpers/launch-worker.ts', import.meta.url));

/** The worker as one rank (or alone, without `rank`), optionally inside network namespace `netns`. */
function worker(out: string, env: NodeJS.ProcessEnv = {}, netns?: string): Promise<Exit> {
  const node = [process.execPath, '--import', 'tsx', WORKER, out];
  return netns ? run('ip', ['netns', 'exec', netns, ...node], env) : run(node[0], node.slice(1), env);
}

function history(exit: Exit): unknown {
  const line = exit.stdout.split('\n').find((l) => l.startsWith('history '));
  assert.ok(line, `no history in the output:\n${exit.stdout}\n${exit.stderr}`);
  return JSON.parse(line.slice('history '.length));
}

function weights(path: string): Record<string, number[]> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, number[]>;
}

type Rank = (out: string, model: NodeJS.ProcessEnv) => Promise<Exit>;
type Weights = Record<string, number[]>;

/**
 * Runs the worker alone and as two ranks, each with the `model` variables (see the worker): every process must
 * succeed, and only rank 0 write its weights.
 */
async function aloneAndTwoRanks(
  rank0: Rank,
  rank1: Rank,
  model: NodeJS.ProcessEnv,
): Promise<{ alone: Exit; ranks: Exit[]; single: Weights; parallel: Weights }> {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-ddp-'));
  try {
    const alone = await worker(join(dir, 'alone.json'), model);
    assert.equal(alone.code, 0, alone.stderr);
    const ranks = await Promise.all([rank0(join(dir, 'rank0.json'), model), rank1(join(dir, 'rank1.json'), model)]);
    ranks.forEach((exit) => assert.equal(exit.code, 0, exit.stderr));
    assert.throws(() => readFileSync(join(dir, 'rank1.json')), /ENOENT/, 'only rank 0 writes');
    return { alone, ranks, single: weights(join(dir, 'alone.json')), parallel: weights(join(dir, 'rank0.json')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest difference between two models' weights, and the tensor it is in. */
function largestDifference(a: Weights, b: Weights): { name: string; difference: number } {
  assert.deepEqual(Object.keys(b), Object.keys(a));
  return Object.entries(a)
    .map(([name, values]) => ({ name, difference: Math.max(...values.map((v, i) => Math.abs(v - b[name][i]))) }))
    .reduce((worst, next) => (next.difference > worst.difference ? next : worst));
}

/** Runs the worker alone and as two ranks, and checks that both give the same model and figures. */
async function assertTwoRanksEqualOne(rank0: Rank, rank1: Rank, model: NodeJS.ProcessEnv = {}): Promise<void> {
  const { alone, ranks, single, parallel } = await aloneAndTwoRanks(rank0, rank1, model);
  const { name, difference } = largestDifference(single, parallel);
  assert.ok(difference < 1e-5, `${name}: the two-rank run differs from one process by up to ${difference}`);
  // Validation is gathered, so both ranks report the same figures, and they are one process's (up to rounding).
  assert.deepEqual(history(ranks[1]), history(ranks[0]));
  const [one, two] = [history(alone), history(ranks[0])] as { validLoss: number; metrics: Record<string, number> }[][];
  two.forEach((epoch, e) => {
    assert.ok(Math.abs(epoch.validLoss - one[e].validLoss) < 1e-5, `epoch ${e}: valid loss ${epoch.validLoss} vs ${one[e].validLoss}`);
    assert.deepEqual(epoch.metrics, one[e].metrics);
  });
}

test('two processes over Gloo on localhost train the same weights as one process on the same global batches', async () => {
  const port = await freePort();
  await assertTwoRanksEqualOne(
    (out, model) => worker(out, rankEnv(0, 2, '127.0.0.1', port, model)),
    (out, model) => worker(out, rankEnv(1, 2, '127.0.0.1', port, model)),
  );
});

test('the head trained alone, then the whole network: two processes train the same weights as one process', async () => {
  const port = await freePort();
  // The second fit trains parameters the first did not: their gradients must be averaged too.
  await assertTwoRanksEqualOne(
    (out, model) => worker(out, rankEnv(0, 2, '127.0.0.1', port, model)),
    (out, model) => worker(out, rankEnv(1, 2, '127.0.0.1', port, model)),
    { FREEZE_FIRST: '1' },
  );
});

test('with batch norm, synchronised: two processes train the same weights as one process on the same global batches', async () => {
  const port = await freePort();
  // A bucket per parameter: their all-reduces, started during backward, interleave with batch norm's.
  await assertTwoRanksEqualOne(
    (out, model) => worker(out, rankEnv(0, 2, '127.0.0.1', port, model)),
    (out, model) => worker(out, rankEnv(1, 2, '127.0.0.1', port, model)),
    { BATCH_NORM: '1', SYNC_BATCH_NORM: '1', BUCKET_BYTES: '1' },
  );
});

test('with batch norm per process (as DDP by default), two processes train other weights than one process', async () => {
  const port = await freePort();
  const { single, parallel } = await aloneAndTwoRanks(
    (out, model) => worker(out, rankEnv(0, 2, '127.0.0.1', port, model)),
    (out, model) => worker(out, rankEnv(1, 2, '127.0.0.1', port, model)),
    { BATCH_NORM: '1' },
  );
  const { name, difference } = largestDifference(single, parallel);
  assert.ok(difference > 1e-2, `${name}: per-process batch norm came within ${difference} of one process's weights`);
});

/** Two network namespaces joined by a veth pair, made for the test; undefined where `ip netns` is not permitted. */
function twoMachines(): { names: [string, string]; addresses: [string, string]; remove(): void } | undefined {
  const tag = `fs${process.pid}`;
  const names: [string, string] = [`${tag}a`, `${tag}b`];
  const addresses: [string, string] = ['10.231.7.1', '10.231.7.2'];
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  // Deleting a namespace deletes its end of the veth pair, and with it the other end.
  const remove = () =>
    names.forEach((name) => {
      try {
        ip('netns', 'delete', name);
      } catch {
        // It was never made.
      }
    });
  try {
    names.forEach((name) => ip('netns', 'add', name));
  } catch (error) {
    remove();
    console.log(`skipped: cannot make network namespaces here (${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
  try {
    ip('link', 'add', `${tag}va`, 'netns', names[0], 'type', 'veth', 'peer', 'name', `${tag}vb`, 'netns', names[1]);
    names.forEach((name, i) => {
      const link = `${tag}v${'ab'[i]}`;
      ip('-n', name, 'addr', 'add', `${addresses[i]}/24`, 'dev', link);
      ip('-n', name, 'link', 'set', link, 'up');
      ip('-n', name, 'link', 'set', 'lo', 'up');
    });
  } catch (error) {
    remove();
    throw error;
  }
  return { names, addresses, remove };
}

test('two "machines": rank 0 and rank 1 in two network namespaces joined by a veth pair give the same result', async (t) => {
  const machines = twoMachines();
  if (!machines) return t.skip('ip netns is not permitted here');
  try {
    const { names, addresses } = machines;
    const port = 29_731;
    await assertTwoRanksEqualOne(
      (out, model) => worker(out, rankEnv(0, 2, addresses[0], port, model), names[0]),
      (out, model) => worker(out, rankEnv(1, 2, addresses[0], port, model), names[1]),
    );
  } finally {
    machines.remove();
  }
});

test('a killed rank: the survivor fails naming it and the cause, whichever rank dies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-ddp-'));
  try {
    for (const dying of [1, 0]) {
      const port = await freePort();
      const fail = { FAIL_RANK: String(dying), FAIL_AT_STEP: '2' };
      const [first, second] = await Promise.all([0, 1].map((rank) => worker(join(dir, `r${rank}.json`), rankEnv(rank, 2, '127.0.0.1', port, fail))));
      const [killed, survivor] = dying === 1 ? [second, first] : [first, second];
      assert.equal(killed.signal, 'SIGKILL');
      assert.equal(survivor.code, 1, survivor.stderr);
      const survivorRank = 1 - dying;
      assert.match(survivor.stderr, new RegExp(`rank ${survivorRank}: all-reduce failed: .*(Connection closed by peer|Connection reset by peer)`));
      if (dying === 1) assert.match(survivor.stderr, /Rank 1 sent no report within 5 s: died, hung or cannot be reached/);
      else assert.match(survivor.stderr, /Rank 0, which hosts the rendezvous store at 127\.0\.0\.1:\d+, is unreachable .*: it died/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rank that fails with an error of its own: the others quote it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-ddp-'));
  try {
    const port = await freePort();
    const fail = { FAIL_RANK: '1', FAIL_AT_STEP: '2', FAIL_HOW: 'throw' };
    const [first, second] = await Promise.all([0, 1].map((rank) => worker(join(dir, `r${rank}.json`), rankEnv(rank, 2, '127.0.0.1', port, fail))));
    assert.equal(second.code, 1);
    assert.equal(first.code, 1);
    assert.match(first.stderr, /rank 0: all-reduce failed: .*\. Rank 1 reported: rank 1 cannot read its images \(a test's failure\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rank that never joins: the others fail naming it once the rendezvous times out', async () => {
  const port = await freePort();
  const alone = await worker('/dev/null', rankEnv(0, 3, '127.0.0.1', port, { TEST_TIMEOUT_MS: '1500' }));
  assert.equal(alone.code, 1);
  assert.match(alone.stderr, /rank 0: ranks 1, 2 of 3 did not join the run at 127\.0\.0\.1:\d+ within 1\.5 s/);
});

test('ranks that would train different numbers of batches both stop before training, saying so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-ddp-'));
  try {
    const port = await freePort();
    // Rank 1 sees a smaller training set: waiting for each other's gradients would hang at the end of its epoch.
    const [first, second] = await Promise.all(
      [0, 1].map((rank) => worker(join(dir, `r${rank}.json`), rankEnv(rank, 2, '127.0.0.1', port, rank ? { TRAIN_ITEMS: '16' } : {}))),
    );
    assert.equal(first.code, 1);
    assert.equal(second.code, 1);
    assert.match(first.stderr, /rank 0 draws 4 training batches per epoch and rank 1 2: the training loader must drop its incomplete last batch/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the --nproc launcher: the ranks train, and a rank that dies fails the run naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-ddp-'));
  try {
    const good = await run(process.execPath, ['--import', 'tsx', LAUNCHER, WORKER, join(dir, 'w.json')], {});
    assert.equal(good.code, 0, good.stderr);
    assert.ok(Object.keys(weights(join(dir, 'w.json'))).length > 0);
    const bad = await run(process.execPath, ['--import', 'tsx', LAUNCHER, WORKER, join(dir, 'w.json')], { FAIL_RANK: '1', FAIL_AT_STEP: '1' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /the data-parallel run failed: rank 1 \(pid \d+\) was killed by SIGKILL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
