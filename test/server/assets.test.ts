import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { WORKLIST_FOLDER, worklistAssets } from '../../src/server/triage/http/worklist-assets.js';

test("the worklist app's files are served from the repository's src/web/worklist", () => {
  assert.equal(WORKLIST_FOLDER, fileURLToPath(new URL('../../src/web/worklist', import.meta.url)));
});

test('GET / is index.html, GET /assets/* any file of the folder; nothing outside it; 404 when missing', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'findstroke-assets-'));
  const app = Fastify();
  try {
    await writeFile(join(folder, 'index.html'), '<!doctype html><title>worklist</title>');
    await writeFile(join(folder, 'app.js'), 'console.log(1)');
    worklistAssets(app, folder);
    const index = await app.inject('/');
    assert.equal(index.statusCode, 200);
    assert.match(index.headers['content-type'] as string, /text\/html/);
    assert.match(index.body, /worklist/);
    const script = await app.inject('/assets/app.js');
    assert.match(script.headers['content-type'] as string, /text\/javascript/);
    assert.equal(script.body, 'console.log(1)');
    assert.equal((await app.inject('/assets/missing.css')).statusCode, 404);
    for (const sneaky of ['/assets/..%2f..%2fetc%2fpasswd', '/assets/%2e%2e/%2e%2e/package.json', '/assets/../index.html']) {
      const response = await app.inject(sneaky);
      assert.ok(response.statusCode === 404 || !response.body.includes('root:'), sneaky);
      assert.notEqual(response.statusCode, 200, sneaky);
    }
  } finally {
    await app.close();
    await rm(folder, { recursive: true, force: true });
  }
});
