import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  collectImages,
  CollectError,
  REPORT_FILE,
  UrlListProvider,
  type CollectOptions,
  type CollectProgress,
  type CollectResult,
  type UrlRecord,
} from '../../../src/data/collect/index.js';
import { IMAGES, startImageServer, TEST_MAX_BYTES, type ImageServer } from './helpers/image-server.js';

const scratch = mkdtempSync(join(tmpdir(), 'findstroke-collect-'));
let server: ImageServer;

before(async () => {
  server = await startImageServer();
});
after(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Writes `<className>.txt` lists of server paths and returns their folder. */
function urlLists(lists: Record<string, string[]>): string {
  const dir = mkdtempSync(join(scratch, 'lists-'));
  for (const [className, paths] of Object.entries(lists)) {
    writeFileSync(join(dir, `${className}.txt`), ['# from the test server', '', ...paths.map((path) => `${server.base}${path}`)].join('\n'));
  }
  return dir;
}

async function collect(lists: string, out: string, extra: Partial<CollectOptions> = {}): Promise<CollectResult> {
  const provider = await UrlListProvider.fromPath(lists);
  // The default timeout: a local answer never comes near it, however busy the machine.
  return collectImages({ out, classes: provider.classes, provider, concurrency: 4, retries: 1, backoffMs: 20, maxBytes: TEST_MAX_BYTES, ...extra });
}

/** Every file under `dir`, relative, with `/` separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) =>
      join(entry.parentPath, entry.name)
        .slice(dir.length + 1)
        .replaceAll('\\', '/'),
    )
    .sort();
}

describe('collect from a server with good, copied, broken and unreachable images', () => {
  const out = join(scratch, 'out');
  let lists: string;
  let first: CollectResult;
  const listed = {
    cats: ['/red.png', '/red-copy.png', '/noise.jpg', '/truncated.jpg', '/page.jpg', '/missing.jpg'],
    dogs: ['/green.png', '/noise-mirror.jpg', '/flaky.png', '/huge.png', '/huge-stream.png'],
  };
  const progress: CollectProgress[] = [];
  const record = (path: string): UrlRecord => {
    const found = first.report.records.find((r) => r.url === `${server.base}${path}`);
    assert.ok(found, `no record for ${path}`);
    return found;
  };

  before(async () => {
    lists = urlLists(listed);
    first = await collect(lists, out, { onProgress: (p) => progress.push(p) });
  });

  test('stores each distinct good image once, under its class, named by its hash', async () => {
    const ok = first.report.records.filter((r) => r.status === 'ok');
    assert.deepEqual(filesUnder(out), [...ok.map((r) => r.file!), REPORT_FILE].sort());
    assert.equal(ok.filter((r) => r.className === 'cats').length, 1 + Number(record('/noise.jpg').status === 'ok'));
    for (const { file, sha256, className } of ok) {
      const bytes = readFileSync(join(out, file!));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), sha256);
      assert.match(file!, new RegExp(`^${className}/${sha256!.slice(0, 16)}\\.(png|jpg)$`));
      await sharp(bytes).raw().toBuffer();
    }
    assert.equal(record('/green.png').status, 'ok');
  });

  test('retries a 500 and succeeds; does not retry a 404', () => {
    assert.equal(record('/flaky.png').status, 'ok');
    assert.equal(server.requests.get('/flaky.png'), 2);
    assert.deepEqual({ ...record('/missing.jpg') }, { url: `${server.base}/missing.jpg`, className: 'cats', status: 'failed', reason: 'HTTP 404 Not Found' });
    assert.equal(server.requests.get('/missing.jpg'), 1);
  });

  test('reports the same bytes under another URL as a duplicate, and across classes as a conflict', () => {
    const reds = [record('/red.png'), record('/red-copy.png')];
    assert.deepEqual(reds.map((r) => r.status).sort(), ['duplicate', 'ok']);
    const [kept, copy] = reds[0].status === 'ok' ? reds : [...reds].reverse();
    assert.equal(copy.file, kept.file);
    assert.equal(copy.reason, `same image as ${kept.url}`);

    const noises = [record('/noise.jpg'), record('/noise-mirror.jpg')];
    assert.deepEqual(noises.map((r) => r.status).sort(), ['duplicate', 'ok']);
    assert.match(noises.find((r) => r.status === 'duplicate')!.reason!, /same image as .* in class '(cats|dogs)': conflicting labels/);
    assert.deepEqual(first.report.conflicts, [
      { sha256: noises[0].sha256, file: noises.find((r) => r.status === 'ok')!.file, classes: ['cats', 'dogs'], urls: noises.map((r) => r.url) },
    ]);
  });

  test('refuses truncated, mislabelled and oversized downloads with the reason', () => {
    const reasons = Object.fromEntries(
      ['/truncated.jpg', '/page.jpg', '/huge.png', '/huge-stream.png'].map((path) => [path, record(path).status === 'failed' && record(path).reason]),
    );
    assert.match(reasons['/truncated.jpg'] as string, /^cannot decode the jpg image: .*premature end/i);
    assert.match(
      reasons['/page.jpg'] as string,
      /^content-type image\/jpeg, but the bytes are not a JPEG, .* image \(they start "<!DOCTYPE html><html><bo"\)$/,
    );
    assert.equal(reasons['/huge.png'], `larger than the ${TEST_MAX_BYTES}-byte limit (Content-Length ${IMAGES.red.length + 2 * TEST_MAX_BYTES})`);
    assert.equal(reasons['/huge-stream.png'], `larger than the ${TEST_MAX_BYTES}-byte limit`);
    assert.equal(server.requests.get('/huge.png'), 1);
  });

  test('writes the report and reports progress for every URL', () => {
    const onDisk = JSON.parse(readFileSync(join(out, REPORT_FILE), 'utf8')) as unknown;
    assert.deepEqual(onDisk, first.report);
    assert.deepEqual(
      first.report.records.map((r) => `${r.className}${new URL(r.url).pathname}`),
      [...listed.cats.map((path) => `cats${path}`), ...listed.dogs.map((path) => `dogs${path}`)],
    );
    assert.equal(first.skipped, 0);
    assert.deepEqual(
      progress.map((p) => [p.done, p.total]),
      Array.from({ length: 11 }, (_, i) => [i + 1, 11]),
    );
  });

  test('a re-run skips what is collected, retries failures, and clears temporaries of a killed run', async () => {
    const stale = join(out, 'cats', '.0123456789abcdef.jpg.1a2b3c4d.partial');
    writeFileSync(stale, 'half an image');
    const collected = first.report.records.filter((r) => r.status !== 'failed');
    const requestsBefore = new Map(server.requests);

    const second = await collect(lists, out);
    assert.equal(second.skipped, collected.length);
    for (const { url } of collected) assert.equal(server.requests.get(new URL(url).pathname), requestsBefore.get(new URL(url).pathname), url);
    assert.equal(server.requests.get('/missing.jpg'), 2);
    assert.deepEqual(second.report, first.report);
    assert.deepEqual(filesUnder(out), [...collected.filter((r) => r.status === 'ok').map((r) => r.file!), REPORT_FILE].sort());
  });
});

test('a server that never answers is given up on after the timeout, once per attempt', async () => {
  const out = mkdtempSync(join(scratch, 'silent-'));
  const { report } = await collect(urlLists({ dogs: ['/silent.jpg'] }), out, { timeoutMs: 300 });
  assert.deepEqual(
    report.records.map((r) => [r.status, r.reason]),
    [['failed', 'timed out after 300 ms (2 attempts)']],
  );
  assert.equal(server.requests.get('/silent.jpg'), 2);
});

describe('collect input', () => {
  test('an unreadable report is refused with its path', async () => {
    const out = mkdtempSync(join(scratch, 'bad-report-'));
    writeFileSync(join(out, REPORT_FILE), '{"records": [{"url": 1}]}');
    const provider = new UrlListProvider([{ className: 'cats', urls: [] }], 'inline');
    await assert.rejects(collectImages({ out, classes: ['cats'], provider }), (error: unknown) => {
      assert.ok(error instanceof CollectError);
      assert.equal(error.source, join(out, REPORT_FILE));
      assert.match(error.reason, /not a collect report/);
      return true;
    });
  });

  test('a URL the provider does not know how to fetch fails in the report, not the run', async () => {
    const out = mkdtempSync(join(scratch, 'ftp-'));
    mkdirSync(out, { recursive: true });
    const provider = { search: async () => ['ftp://127.0.0.1/cat.png'] };
    const { report } = await collectImages({ out, classes: ['cats'], provider });
    assert.deepEqual(report.records, [
      { url: 'ftp://127.0.0.1/cat.png', className: 'cats', status: 'failed', reason: "not an http(s) URL: 'ftp://127.0.0.1/cat.png'" },
    ]);
  });
});
