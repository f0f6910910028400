import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { trainRun } from '../../src/workflows/train-run.js';
import { loadExportedModel } from '../../src/inference/exported-model.js';
import { Cleaner, TRASH_NAME } from '../../src/clean/index.js';
import { startCleanerServer } from '../../src/server/cleaner/server.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { CLASS_FOLDER_FILES, fakeStudyScorer, logEntries, PROBABILITY_OF_A, snapshot, writePngs } from '../clean/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const NO_CHROMIUM = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (apt-get install chromium) to run the cleaner page in`;
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SCREENSHOT = '/tmp/cleaner.png';
const PATIENTS_SCREENSHOT = '/tmp/cleaner-patients.png';

test('in the browser: relabel one image and delete another, apply, check the disk; undo puts everything back', { skip: NO_CHROMIUM }, async () => {
  const { root, remove } = await tempFolder();
  const data = join(root, 'data');
  try {
    await writePhantomDataset(data, { patients: 6, slices: 2, seed: 1, format: 'png', size: 64 });
    // Without its manifest the phantom set is plain class folders: a relabel moves the file.
    await rm(join(data, 'manifest.csv'));
    const run = await trainRun({
      data,
      out: join(root, 'run'),
      arch: 'resnet18',
      pretrained: 'none',
      size: 32,
      batchSize: 4,
      epochs: 1,
      validPct: 0.5,
      seed: 3,
      log: () => undefined,
    });
    const cleaner = await Cleaner.open({ data, model: loadExportedModel(run.modelPath, 2).cleaner().scorer, validPct: 0.5, seed: 3 });
    const { url, app } = await startCleanerServer(cleaner, 0);
    const before = await snapshot(data);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
      await page.goto(url);
      await page.getByText('findstroke is a research tool and triage aid, not a diagnosis').waitFor();
      await page.selectOption('#class', 'haemorrhagicStroke');
      await page.waitForSelector('#grid[data-loaded="haemorrhagicStroke/all/images"] .card');
      const ids = await page.locator('.card').evaluateAll((cards) => cards.map((card) => (card as HTMLElement).dataset.id!));
      assert.equal(ids.length, 4);
      const [relabelled, deleted] = ids;
      await page.locator(`select.decision[data-id="${relabelled}"]`).selectOption('relabel:normalBrain');
      await page.locator(`select.decision[data-id="${deleted}"]`).selectOption('delete');
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      await page.click('#apply');
      await page.getByText(/applied batch .*: 1 relabelled, 1 moved to the trash/).waitFor();
      const batch = (await page.textContent('#status'))!.match(/applied batch (\S+):/)![1];
      assert.ok(existsSync(join(data, 'normalBrain', basename(relabelled))));
      assert.ok(!existsSync(join(data, relabelled)));
      assert.ok(existsSync(join(data, TRASH_NAME, batch, deleted)));
      assert.ok(!existsSync(join(data, deleted)));
      assert.deepEqual(
        (await logEntries(data)).filter((e) => e.action === 'relabel' || e.action === 'delete').map((e) => [e.action, e.from, e.to]),
        [
          ['delete', deleted, `${TRASH_NAME}/${batch}/${deleted}`],
          ['relabel', relabelled, `normalBrain/${basename(relabelled)}`],
        ],
      );
      assert.equal(await page.locator('.card').count(), 2, 'the class now lists the two images left');

      await page.click('#undo');
      await page.getByText(`undid batch ${batch}: 1 relabelled, 1 restored from the trash`).waitFor();
      assert.deepEqual(await snapshot(data), before);
      assert.equal(await page.locator('.card').count(), 4);

      // By patient: one decision relabels every image of the patient.
      await page.selectOption('#view', 'patients');
      await page.waitForSelector('#grid[data-loaded="haemorrhagicStroke/all/patients"] .card.patient');
      assert.equal(await page.locator('.card.patient').count(), 2, 'two patients of two slices each');
      assert.match((await page.textContent('#status'))!, /2 patients \(each scored by the mean of its 3 highest slice probabilities/);
      const patient = (await page.locator('.card.patient').first().getAttribute('data-patient'))!;
      assert.equal(await page.locator('.card.patient').first().locator('.strip img').count(), 2);
      await page.locator('.card.patient').first().locator('select.decision').selectOption('relabel:normalBrain');
      await page.screenshot({ path: PATIENTS_SCREENSHOT, fullPage: true });
      await page.click('#apply');
      await page.getByText(/applied batch .*: 2 relabelled/).waitFor();
      const files = ids.filter((id) => basename(id).startsWith(`${patient}_`));
      assert.equal(files.length, 2);
      for (const id of files)
        assert.ok(existsSync(join(data, 'normalBrain', basename(id))) && !existsSync(join(data, id)), `${id} relabelled with its patient`);
      assert.equal(await page.locator('.card.patient').count(), 1);
      await page.click('#undo');
      await page.getByText(/undid batch .*: 2 relabelled/).waitFor();
      assert.deepEqual(await snapshot(data), before);
    } finally {
      await browser.close();
      await app.close();
    }
  } finally {
    await remove();
  }
});

test('in the browser, with a study model: the patient listing says patients are scored by the study prediction', { skip: NO_CHROMIUM }, async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, CLASS_FOLDER_FILES);
    const cleaner = await Cleaner.open({ data: root, model: fakeStudyScorer(PROBABILITY_OF_A), validPct: 0.5, seed: 1 });
    const { url, app } = await startCleanerServer(cleaner, 0);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.selectOption('#view', 'patients');
      await page.waitForSelector('#grid[data-loaded="a/all/patients"] .card.patient');
      assert.match(
        (await page.textContent('#status'))!,
        /2 patients \(each scored by the study model's prediction from all of its slices; one decision covers all its images\)/,
      );
      // p1's study says b at 0.9 (its slices' top-3 mean would say a at 0.5).
      assert.match(await page.locator('.card.patient[data-patient="p1"]').innerText(), /predicted\s*b \(0\.900\)/);
    } finally {
      await browser.close();
      await app.close();
    }
  } finally {
    await remove();
  }
});
