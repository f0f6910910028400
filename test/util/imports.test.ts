import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';

const UTIL = new URL('../../src/util/', import.meta.url);

test("src/util imports only Node's modules and its own, so that every layer may import it", () => {
  const files = readdirSync(UTIL).filter((name) => name.endsWith('.ts'));
  assert.ok(files.length >= 4);
  for (const name of files) {
    const specifiers = [...readFileSync(new URL(name, UTIL), 'utf8').matchAll(/\bfrom '([^']+)'/g)].map((match) => match[1]);
    for (const specifier of specifiers) assert.match(specifier, /^(node:|\.\/)/, `src/util/${name} imports ${specifier}`);
  }
});
