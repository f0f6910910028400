import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CollectError, readUrlLists, UrlListProvider } from '../../../src/data/collect/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'findstroke-url-lists-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(scratch, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

async function assertRefused(path: string, source: string, reason: RegExp): Promise<void> {
  await assert.rejects(readUrlLists(path), (error: unknown) => {
    assert.ok(error instanceof CollectError, String(error));
    assert.equal(error.source, source);
    assert.match(error.reason, reason);
    return true;
  });
}

describe('URL lists', () => {
  test('a folder of <className>.txt files: comments, blank lines and repeats skipped, classes sorted', async () => {
    file('folder/normal.txt', '# healthy brains\nhttps://a.example/1.png\n\n  https://a.example/2.jpg  \nhttps://a.example/1.png\n');
    file('folder/haemorrhagic.txt', 'https://b.example/x.png?size=large#top\r\n');
    file('folder/notes.md', 'not a list');
    assert.deepEqual(await readUrlLists(join(scratch, 'folder')), [
      { className: 'haemorrhagic', urls: ['https://b.example/x.png?size=large#top'] },
      { className: 'normal', urls: ['https://a.example/1.png', 'https://a.example/2.jpg'] },
    ]);
  });

  test('a CSV of url,label with an optional header and quoted fields', async () => {
    const path = file(
      'lists.csv',
      'url,label\nhttps://a.example/1.png,normal\n"https://a.example/q.png?a=1,2",ischaemic\n# skipped\nhttps://a.example/3.png, normal\n',
    );
    assert.deepEqual(await readUrlLists(path), [
      { className: 'ischaemic', urls: ['https://a.example/q.png?a=1,2'] },
      { className: 'normal', urls: ['https://a.example/1.png', 'https://a.example/3.png'] },
    ]);
  });

  test("quoting as the project's CSV parser reads it: commas and doubled quotes inside quotes, a stray quote refused at its line", async () => {
    const quoted = file('quoted.csv', 'url,label\n"https://a.example/say ""hi"", twice.png","haemorrhagic, acute"\n');
    assert.deepEqual(await readUrlLists(quoted), [{ className: 'haemorrhagic, acute', urls: ['https://a.example/say "hi", twice.png'] }]);
    const after = file('after-quote.csv', 'https://a.example/1.png,normal\n"https://a.example/2.png"x,normal\n');
    await assertRefused(after, `${after}:2`, /^text after the closing quote of a quoted field$/);
    const inside = file('inside-quote.csv', 'https://a.example/a"b.png,normal\n');
    await assertRefused(inside, `${inside}:1`, /^a quote inside an unquoted field/);
  });

  test('bad input is refused naming the file, the line and the reason', async () => {
    await assertRefused(join(scratch, 'absent'), join(scratch, 'absent'), /cannot read \(ENOENT\)/);
    const bad = file('bad-url/normal.txt', 'https://a.example/1.png\nwww.example.com/2.png\n');
    await assertRefused(join(scratch, 'bad-url'), `${bad}:2`, /^not a URL: 'www.example.com\/2.png'$/);
    const ftp = file('ftp.csv', 'ftp://a.example/1.png,normal\n');
    await assertRefused(ftp, `${ftp}:1`, /not an http\(s\) URL/);
    const escape = file('escape.csv', 'https://a.example/1.png,../normal\n');
    await assertRefused(escape, `${escape}:1`, /class name '..\/normal' starts with a dot/);
    const fields = file('fields.csv', 'https://a.example/1.png,normal,extra\n');
    await assertRefused(fields, `${fields}:1`, /expected 2 fields \(url,label\), found 3/);
    const quote = file('quote.csv', '"https://a.example/1.png,normal\n');
    await assertRefused(quote, `${quote}:1`, /quoted field is not closed/);
    const empty = file('empty.csv', '# nothing yet\n');
    await assertRefused(empty, empty, /no URLs listed/);
    mkdirSync(join(scratch, 'no-lists'));
    await assertRefused(join(scratch, 'no-lists'), join(scratch, 'no-lists'), /no <className>.txt URL lists/);
    const other = file('urls.json', '[]');
    await assertRefused(other, other, /expected a folder of <className>.txt URL lists or a .csv file/);
  });

  test('the URL-list provider answers a class name with its URLs, at most max', async () => {
    const provider = new UrlListProvider([{ className: 'normal', urls: ['https://a.example/1.png', 'https://a.example/2.png'] }], 'lists.csv');
    assert.deepEqual(provider.classes, ['normal']);
    assert.deepEqual(await provider.search('normal', 1), ['https://a.example/1.png']);
    await assert.rejects(provider.search('ischaemic', 10), /^CollectError: lists.csv: no URL list for class 'ischaemic'$/);
  });
});
