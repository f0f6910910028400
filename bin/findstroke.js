#!/usr/bin/env node
// The `findstroke` command: runs the compiled CLI (built by `bash scripts/setup.sh` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('findstroke is not built yet: run `bash scripts/setup.sh` in the repository first.');
  process.exit(1);
}
await import(main.href);
