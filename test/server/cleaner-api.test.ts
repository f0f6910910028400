import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { Cleaner } from '../../src/clean/index.js';
import { TOP_SLICES_PATIENT_SCORE } from '../../src/learn/metrics.js';
import { cleanerApp } from '../../src/server/cleaner/app.js';
import { loadPage } from '../../src/server/cleaner/page.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { CLASS_FOLDER_FILES, fakeScorer, logEntries, PROBABILITY_OF_A, snapshot, writePngs } from '../clean/helpers.js';

test('the cleaner API: listing, image bytes, apply and undo; every bad request a 4xx naming the reason, nothing lost', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, [...CLASS_FOLDER_FILES, 'b/p1_s0.png']);
    const cleaner = await Cleaner.open({ data: root, model: fakeScorer(PROBABILITY_OF_A), validPct: 0.5, seed: 1 });
    const app = cleanerApp(cleaner, await loadPage());
    const before = await snapshot(root);

    const page = await app.inject({ url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(page.body, /findstroke is a research tool and triage aid, not a diagnosis/);
    assert.equal((await app.inject({ url: '/cleaner.js' })).statusCode, 200);
    assert.deepEqual((await app.inject({ url: '/api/classes' })).json(), { root, classes: ['a', 'b'] });

    const listing = (await app.inject({ url: '/api/images?class=a&side=all&limit=2' })).json();
    assert.equal(listing.total, 4);
    assert.deepEqual(
      listing.images.map((i: { id: string }) => i.id),
      ['a/p2_s0.png', 'a/p1_s1.png'],
    );
    assert.deepEqual(Object.keys(listing.images[1]).sort(), ['id', 'label', 'loss', 'path', 'predicted', 'probability', 'side']);
    const patients = (await app.inject({ url: '/api/patients?class=b&side=all&limit=1' })).json();
    assert.equal(patients.total, 3, 'p1 (one slice labelled b), p3, p4');
    assert.equal(patients.scoring, TOP_SLICES_PATIENT_SCORE, 'the listing says how a patient was scored');
    assert.deepEqual(Object.keys(patients.patients[0]).sort(), ['images', 'label', 'loss', 'patient', 'predicted', 'probability', 'side']);
    assert.ok(patients.patients[0].images.every((i: { label: string }) => i.label === 'b'));
    const image = await app.inject({ url: `/api/image/${encodeURIComponent('a/p1_s1.png')}` });
    assert.equal(image.statusCode, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.deepEqual([...image.rawPayload.subarray(1, 4)], [...Buffer.from('PNG')]);

    const bad: [InjectOptions, number, RegExp][] = [
      [{ url: '/api/images' }, 400, /querystring must have required property 'class'/],
      [{ url: '/api/images?class=a&side=test' }, 400, /querystring\/side must be equal to one of the allowed values/],
      [{ url: '/api/images?class=a&limit=0' }, 400, /querystring\/limit must be >= 1/],
      [{ url: '/api/images?class=zebra' }, 400, /unknown class "zebra"/],
      [{ url: '/api/patients?class=zebra' }, 400, /unknown class "zebra"/],
      [{ url: '/api/patients?side=valid' }, 400, /querystring must have required property 'class'/],
      [{ url: `/api/image/${encodeURIComponent('../../etc/passwd')}` }, 400, /leads outside the dataset folder/],
      [{ url: `/api/image/${encodeURIComponent('a/nope.png')}` }, 404, /a\/nope\.png is not an image of the dataset/],
      [{ url: `/api/image/${encodeURIComponent('.findstroke-clean-log.jsonl')}` }, 404, /not an image of the dataset/],
      [{ url: '/api/nothing' }, 404, /no such page or API: GET \/api\/nothing/],
      [{ method: 'POST', url: '/api/apply', headers: { 'content-type': 'application/json' }, payload: '{"decisions": ' }, 400, /JSON/],
      [{ method: 'POST', url: '/api/apply', payload: {} }, 400, /body must have required property 'decisions'/],
      [{ method: 'POST', url: '/api/apply', payload: { decisions: [] } }, 400, /body\/decisions must be object/],
      [{ method: 'POST', url: '/api/apply', payload: { decisions: {}, force: true } }, 400, /must NOT have additional properties/],
      [
        { method: 'POST', url: '/api/apply', payload: { decisions: { 'a/p1_s0.png': 'remove' } } },
        400,
        /the decision for a\/p1_s0\.png must be "keep", "delete" or \{"relabel": class\}/,
      ],
      [
        { method: 'POST', url: '/api/apply', payload: { decisions: { 'a/p1_s0.png': { relabel: 'b', also: 'delete' } } } },
        400,
        /the decision for a\/p1_s0\.png must be/,
      ],
      [{ method: 'POST', url: '/api/apply', payload: { decisions: { '../x.png': 'delete' } } }, 400, /leads outside the dataset folder/],
      [{ method: 'POST', url: '/api/apply', payload: { decisions: { 'a/nope.png': 'delete' } } }, 404, /a\/nope\.png is not an image of the dataset/],
      [{ method: 'POST', url: '/api/apply', payload: { decisions: { 'a/p1_s1.png': { relabel: 'zebra' } } } }, 400, /unknown class "zebra"/],
      [
        { method: 'POST', url: '/api/apply', payload: { decisions: { 'a/p2_s0.png': 'delete', 'a/p1_s0.png': { relabel: 'b' } } } },
        409,
        /b\/p1_s0\.png already exists; refusing to overwrite/,
      ],
      [{ method: 'POST', url: '/api/apply', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' }, 415, /the API takes JSON/],
      [{ method: 'POST', url: '/api/undo', payload: {} }, 409, /nothing to undo/],
      [{ method: 'POST', url: '/api/undo', headers: { 'content-type': 'text/plain' }, payload: 'undo' }, 400, /body must be object/],
      [{ url: '/api/classes', headers: { host: 'evil.example:8765' } }, 403, /only answers requests for 127\.0\.0\.1 or localhost/],
      [
        { method: 'POST', url: '/api/undo', headers: { host: '127.0.0.1:8765', origin: 'http://evil.example' }, payload: {} },
        403,
        /requests from http:\/\/evil\.example are refused/,
      ],
    ];
    for (const [request, status, reason] of bad) {
      const response = await app.inject(request);
      assert.equal(response.statusCode, status, `${JSON.stringify(request)}: ${response.body}`);
      assert.match(response.json().error, reason, JSON.stringify(request));
    }
    assert.deepEqual(await snapshot(root), before, 'no refused request changed anything');
    assert.deepEqual(await logEntries(root), []);

    const applied = await app.inject({
      method: 'POST',
      url: '/api/apply',
      payload: { decisions: { 'a/p1_s1.png': { relabel: 'b' }, 'b/p4_s0.png': 'delete', 'a/p1_s0.png': 'keep' } },
    });
    assert.equal(applied.statusCode, 200, applied.body);
    assert.deepEqual(
      applied
        .json()
        .changes.filter((c: { action: string }) => c.action !== 'mkdir')
        .map((c: { action: string; from: string; to: string }) => [c.action, c.from, c.to]),
      [
        ['delete', 'b/p4_s0.png', `.trash/${applied.json().batch}/b/p4_s0.png`],
        ['relabel', 'a/p1_s1.png', 'b/p1_s1.png'],
      ],
    );
    assert.ok((await app.inject({ url: '/api/images?class=b' })).json().images.some((i: { id: string }) => i.id === 'b/p1_s1.png'));
    const undone = await app.inject({ method: 'POST', url: '/api/undo', headers: { host: '127.0.0.1:8765', origin: 'http://127.0.0.1:8765' }, payload: {} });
    assert.equal(undone.statusCode, 200, undone.body);
    assert.equal(undone.json().undid, applied.json().batch);
    assert.deepEqual(await snapshot(root), before);
    await app.close();
  } finally {
    await remove();
  }
});
