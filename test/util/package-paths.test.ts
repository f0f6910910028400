import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { MODULE_EXTENSION, PACKAGE_ROOT, packagePath } from '../../src/util/package-paths.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const SOURCE = fileURLToPath(new URL('../../src/util/package-paths.ts', import.meta.url));

test('from the sources (under tsx), the package root is the folder of package.json', () => {
  assert.equal(MODULE_EXTENSION, '.ts');
  assert.equal((JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string }).name, 'findstroke');
  assert.equal(packagePath('src', 'util', 'package-paths.ts'), SOURCE);
});

test('compiled (dist/src/util/package-paths.js), the package root is the same folder', async () => {
  const { root, remove } = await tempFolder();
  try {
    // The module as tsc compiles it, where the build puts it in a package rooted at `root`.
    const compiled = join(root, 'dist', 'src', 'util', 'package-paths.js');
    await mkdir(join(root, 'dist', 'src', 'util'), { recursive: true });
    const options = { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 };
    await writeFile(compiled, ts.transpileModule(await readFile(SOURCE, 'utf8'), { compilerOptions: options }).outputText);
    await writeFile(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
    const paths = (await import(pathToFileURL(compiled).href)) as typeof import('../../src/util/package-paths.js');
    assert.equal(paths.MODULE_EXTENSION, '.js');
    assert.equal(paths.PACKAGE_ROOT, join(root, '/'));
    assert.equal(paths.packagePath('native', 'build'), join(root, 'native', 'build'));
  } finally {
    await remove();
  }
});
