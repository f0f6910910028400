/**
 * Files of the findstroke package found the same way whether it runs from its TypeScript sources (under
 * tsx, this module is `src/util/package-paths.ts`) or compiled (`dist/src/util/package-paths.js`): tsc
 * copies nothing but compiled modules into dist/, so the web pages and the native addons are found from
 * the package's root in both cases.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether this process runs findstroke's TypeScript sources rather than the compiled build. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The extension of findstroke's modules as they run: `.ts` from the sources, `.js` compiled. */
export const MODULE_EXTENSION = RUNNING_FROM_SOURCE ? '.ts' : '.js';

/** The package's root folder (where package.json is). */
export const PACKAGE_ROOT = fileURLToPath(new URL(RUNNING_FROM_SOURCE ? '../../' : '../../../', import.meta.url));

/** The path of `segments` under the package's root, e.g. `packagePath('src', 'web', 'worklist')`. */
export function packagePath(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}
