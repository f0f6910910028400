/**
 * The worklist app end to end: `findstroke serve` in a child process, a haemorrhage phantom sent by
 * DICOM C-STORE (DCMTK's storescu), the page in headless Chromium: token form, the study appearing
 * flagged at the top of the live worklist, the viewer (slices, windows, Grad-CAM overlay), the review,
 * and the review in the API and in the service's SQLite store.
 *
 * The model is an untrained ResNet-18 whose file sets a haemorrhage threshold of 0.0001: the test is
 * about the page and the service, not the model, and this makes the phantom flag every time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { manualSeed } from '../../src/torch/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { saveModel } from '../../src/learn/model-file.js';
import { generatePhantomPatient, phantomDicomSeries } from '../../src/data/phantoms/index.js';
import { readDicomHeader } from '../../src/data/dicom/index.js';
import type { Review, StudyDetail, WorklistItem } from '../../src/server/triage/api.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { launchChromium, noBrowser } from '../helpers/browser.js';
import { exited, startServeProcess, type ServeProcess } from '../server/helpers/serve-process.js';

const STORESCU = '/usr/bin/storescu';
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'src/cli/main.ts');
const TOKEN = 'e2e-token-7f3a';
const CALLING_AE = 'E2ESCU';
const CALLED_AE = 'FINDSTROKE';
const SLICES = 6;

function skipReason(): string | false {
  if (noBrowser) return noBrowser;
  if (!existsSync(STORESCU)) return `skipped: ${STORESCU} is absent (apt-get install dcmtk)`;
  if (!/registerServe\s*\(/.test(readFileSync(cli, 'utf8'))) return 'skipped: `findstroke serve` is not registered in src/cli/main.ts yet';
  return false;
}

async function stopService(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  // Clean-up only, nothing is asserted on how it stops: one that has not stopped after a while is killed.
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}

/** Whether the <img> matching `selector` has loaded a decodable image. */
function imageLoaded(page: Page, selector: string): Promise<unknown> {
  return page.waitForFunction(
    (s) => {
      const img = document.querySelector(s) as HTMLImageElement | null;
      return img !== null && img.complete && img.naturalWidth > 0;
    },
    selector,
    { timeout: 60_000 },
  );
}

test(
  'a haemorrhage phantom sent by C-STORE shows up flagged at the top of the live worklist; view, heat map and confirm it',
  { skip: skipReason(), timeout: 420_000 },
  async () => {
    const { root: dir, remove } = await tempFolder();
    let service: ServeProcess | undefined;
    const browser = await launchChromium();
    try {
      // The model: untrained, flagging haemorrhage at a probability of 0.0001.
      manualSeed(0);
      const model = new VisionClassifier({ arch: 'resnet18', numClasses: 3 });
      const modelPath = join(dir, 'model.safetensors');
      saveModel(modelPath, model, {
        classes: ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain'],
        input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] },
        thresholds: { haemorrhagicStroke: 0.0001, ischaemicStroke: 0.9999 },
      });

      // The study: one haemorrhage phantom series as Part 10 files.
      const patient = generatePhantomPatient({ seed: 11, patientIndex: 3, label: 'haemorrhagicStroke', slices: SLICES, size: 64 });
      const seriesDir = join(dir, 'series');
      await mkdir(seriesDir);
      const files = await Promise.all(
        phantomDicomSeries(patient).map(async (bytes, k) => {
          const path = join(seriesDir, `slice${k}.dcm`);
          await writeFile(path, bytes);
          return path;
        }),
      );
      const { studyInstanceUid } = await readDicomHeader(files[0]);

      const data = join(dir, 'data');
      service = await startServeProcess(cli, [
        '--model',
        modelPath,
        '--port',
        '0',
        '--dicom-port',
        '0',
        '--data',
        data,
        '--token',
        TOKEN,
        '--quiet-seconds',
        '1',
        '--ae-title',
        CALLING_AE,
      ]);
      const { url: base, dicomPort } = service;

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // The first worklist fetch is refused (no token yet): that 401 is expected, nothing else is.
      page.on('console', (message) => message.type() === 'error' && !/status of 401/.test(message.text()) && errors.push(message.text()));

      // No token yet: the API answers 401 and the page asks for one.
      await page.goto(`${base}/`);
      assert.match(await page.locator('.notice').innerText(), /findstroke is a research tool and triage aid, not for diagnosis/);
      await page.getByLabel('Access token', { exact: true }).fill(TOKEN);
      await page.getByRole('button', { name: 'Open worklist' }).click();
      await page.locator('#worklist-view').waitFor();
      await page.locator('#live[data-state="live"]').waitFor({ timeout: 30_000 });
      assert.equal(await page.evaluate(() => sessionStorage.getItem('findstroke.token')), TOKEN);
      assert.equal(await page.locator('#worklist-body tr').count(), 0);
      assert.ok(await page.locator('#empty').isVisible());

      // C-STORE the series; the page is not reloaded: the row arrives through /api/events.
      await promisify(execFile)(STORESCU, ['-aet', CALLING_AE, '-aec', CALLED_AE, '127.0.0.1', String(dicomPort), ...files], { timeout: 60_000 });
      const top = page.locator('#worklist-body tr').first();
      // Flagged and done: a slow disk can let the quiet period pass between two slices, and a first classification of part of the series flag the row before the whole is classified.
      await page.locator(`#worklist-body tr.flagged[data-uid="${studyInstanceUid}"]:has(.status.done)`).waitFor({ timeout: 240_000 });
      assert.equal(await top.getAttribute('data-uid'), studyInstanceUid, 'the flagged study is at the top');
      const rowText = await top.innerText();
      assert.match(rowText, /URGENT/);
      assert.match(rowText, /Haemorrhagic stroke/);
      assert.match(rowText, new RegExp(patient.patientId));
      assert.match(rowText, /Classified/);
      assert.match(rowText, /\d+(\.\d)? s/, 'time to flag');
      assert.match(await page.locator('#summary').innerText(), /1 flagged \(1 awaiting review\)/);
      await page.screenshot({ path: '/tmp/worklist.png' });

      // The viewer: slices, windows, heat map.
      await top.click();
      await page.waitForURL(/#study\//);
      await page.locator('#viewer-view').waitFor();
      await imageLoaded(page, '#slice-img');
      assert.match(await page.locator('#viewer-title').innerText(), new RegExp(patient.patientId));
      assert.equal(await page.locator('#slice').getAttribute('max'), String(SLICES));
      assert.equal(await page.locator('.slice-probs tbody tr').count(), 3, 'one probability row per class (a slice model gives no slice weights)');
      assert.match(await page.locator('.study-score').innerText(), /Study column: per class, the mean of the 3 highest slice probabilities/);
      // A study model's detail carries each slice's weight in the study: the chart gives them a row of their own.
      const weightRow = await page.evaluate(async (chartModule) => {
        const { sliceChart } = await import(chartModule);
        const slicesInfo = [0.2, 0.5, 0.3].map((weight, index) => ({ index, sopInstanceUid: `s${index}`, probabilities: { a: 0.4, b: 0.6 }, weight }));
        const detail = { classes: ['a', 'b'], probabilities: { a: 0.4, b: 0.6 }, thresholds: {}, slicesInfo };
        const { element, setCurrent } = sliceChart(detail, () => {});
        setCurrent(1);
        const row = element.querySelector('tr[data-weight]');
        const equal = sliceChart({ ...detail, slicesInfo: slicesInfo.map((s) => ({ ...s, weight: 1 / 3 })) }, () => {}).element;
        return {
          rows: element.querySelectorAll('tbody tr').length,
          current: row?.querySelector('.current')?.textContent,
          label: row?.querySelector('svg')?.getAttribute('aria-label'),
          rowsWhenEqual: equal.querySelectorAll('tbody tr').length,
        };
      }, '/assets/chart.js');
      assert.deepEqual(weightRow, { rows: 3, current: '50%', label: 'Weight in the study per slice: highest 50% on slice 2 of 3', rowsWhenEqual: 2 });
      await page.locator('#slice').fill('1');
      await page.locator('#stage').focus();
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.locator('#slice-out').innerText(), `2 / ${SLICES}`);
      await page.locator('#stage').hover();
      await page.mouse.wheel(0, 120);
      await page.waitForFunction(() => document.getElementById('slice-out')?.textContent?.startsWith('3 '));
      await page.getByRole('button', { name: /^Bone/ }).click();
      assert.equal(await page.getByRole('button', { name: /^Bone/ }).getAttribute('aria-pressed'), 'true');
      assert.match((await page.locator('#slice-img').getAttribute('src')) ?? '', /window=bone/);
      await imageLoaded(page, '#slice-img');
      await page.getByLabel('Width (HU)').fill('150');
      assert.match((await page.locator('#slice-img').getAttribute('src')) ?? '', /window=600%2C150/);
      await page.locator('#stage').focus();
      await page.keyboard.press('1');
      assert.equal(await page.getByRole('button', { name: /^Brain/ }).getAttribute('aria-pressed'), 'true');
      await page.locator('#heatmap-toggle').check();
      assert.match((await page.locator('#heat-img').getAttribute('src')) ?? '', /\/slices\/2\/heatmap\?token=/);
      await imageLoaded(page, '#heat-img');
      assert.ok(await page.locator('#heat-img').isVisible());

      // Confirm the flag.
      await page.getByLabel('Reviewer', { exact: true }).fill('Dr E2E');
      await page.getByRole('button', { name: 'Confirm Haemorrhagic stroke' }).click();
      await page.locator('#review-current', { hasText: 'Confirmed: Haemorrhagic stroke' }).waitFor({ timeout: 30_000 });
      await page.screenshot({ path: '/tmp/viewer.png' });

      // The review, through the API and in the store.
      const detail = (await (await fetch(`${base}/api/studies/${studyInstanceUid}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as StudyDetail;
      const review = detail.review as Review;
      assert.equal(review.decision, 'confirm');
      assert.equal(review.reviewer, 'Dr E2E');
      assert.equal(review.finalLabel, 'haemorrhagicStroke');
      const db = new Database(join(data, 'findstroke.db'), { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare('SELECT decision, final_label, reviewer FROM reviews WHERE study_uid = ? ORDER BY id DESC LIMIT 1').get(studyInstanceUid);
        assert.deepEqual({ ...(row as object) }, { decision: 'confirm', final_label: 'haemorrhagicStroke', reviewer: 'Dr E2E' });
      } finally {
        db.close();
      }

      // Back to the worklist (Esc): the row says it was reviewed.
      await page.keyboard.press('Escape');
      await page.locator('#worklist-view').waitFor();
      await page.locator(`#worklist-body tr[data-uid="${studyInstanceUid}"] .review`, { hasText: 'Confirmed' }).waitFor();
      const items = (await (await fetch(`${base}/api/worklist`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as WorklistItem[];
      assert.equal(items[0].review?.decision, 'confirm');
      assert.deepEqual(errors, []);
    } catch (error) {
      if (service) console.error(`findstroke serve output:\n${service.output()}`);
      throw error;
    } finally {
      if (service) await stopService(service.child);
      await browser.close();
      await remove();
    }
  },
);
