import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv, parseCsvRow } from '../../../src/data/sources/csv.js';

test('plain records with their line numbers; blank lines, BOM and CRLF are handled', () => {
  assert.deepEqual(parseCsv('\ufeffpath,label\r\na.png,x\r\n\r\nb.png,y\n', 'm.csv'), [
    { line: 1, fields: ['path', 'label'] },
    { line: 2, fields: ['a.png', 'x'] },
    { line: 4, fields: ['b.png', 'y'] },
  ]);
});

test('quoted fields hold commas, doubled quotes and line breaks; empty fields count', () => {
  assert.deepEqual(parseCsv('"a, b.png","say ""hi""",\n"two\nlines",""\nlast,x', 'm.csv'), [
    { line: 1, fields: ['a, b.png', 'say "hi"', ''] },
    { line: 2, fields: ['two\nlines', ''] },
    { line: 4, fields: ['last', 'x'] },
  ]);
});

test('errors name the file and the line', () => {
  assert.throws(() => parseCsv('path,label\n"open,x\n', 'm.csv'), { message: 'm.csv: line 2: quoted field is not closed' });
  assert.throws(() => parseCsv('path,label\n"a"b,x\n', 'm.csv'), { message: 'm.csv: line 2: text after the closing quote of a quoted field' });
  assert.throws(() => parseCsv('path,label\nok,x\na"b,x\n', 'm.csv'), { message: /^m\.csv: line 3: a quote inside an unquoted field/ });
});

test('one row of a list read line by line: fields as parseCsv reads them, errors made by the caller, who names the file and line', () => {
  const refuse = (reason: string) => new Error(`list.csv:7: ${reason}`);
  assert.deepEqual(parseCsvRow('"a, ""b""",c,', refuse), ['a, "b"', 'c', '']);
  assert.deepEqual(parseCsvRow('', refuse), ['']);
  assert.throws(() => parseCsvRow('"open,x', refuse), { message: 'list.csv:7: quoted field is not closed' });
  assert.throws(() => parseCsvRow('a\rb', refuse), { message: 'list.csv:7: a line break inside the row' });
});
