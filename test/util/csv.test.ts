import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv } from '../../src/data/sources/csv.js';
import { csvField, csvRow } from '../../src/util/csv.js';

test('a field is quoted only when it holds a comma, a quote or a line break, its quotes doubled', () => {
  assert.equal(csvField('stroke/p002_s001.png'), 'stroke/p002_s001.png');
  assert.equal(csvField(''), '');
  assert.equal(csvField('a, b'), '"a, b"');
  assert.equal(csvField('the "left" side'), '"the ""left"" side"');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('carriage\rreturn'), '"carriage\rreturn"');
});

test('a row joins its fields with commas and reads back as the same fields', () => {
  const fields = ['path, with comma', 'say "hi"', 'line\r\nbreak', '', 'plain'];
  const row = csvRow(fields);
  assert.equal(row, '"path, with comma","say ""hi""","line\r\nbreak",,plain');
  assert.deepEqual(
    parseCsv(`${row}\n`, 'x.csv').map((record) => record.fields),
    [fields],
  );
});
