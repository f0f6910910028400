#!/usr/bin/env bash
# `npm test`: type-check, check the formatting (`npm run format` fixes it), then every test file under test/ with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
npx prettier --check . > /dev/null || { npx prettier --list-different .; echo 'these files are not formatted: npm run format' >&2; exit 1; }
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-reporter=spec "${files[@]}"
