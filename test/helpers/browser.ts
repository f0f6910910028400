/** Headless Debian Chromium for browser tests (never a downloaded browser); skip where it is absent. */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The skip reason when Chromium is missing, else false. */
export const noBrowser: string | false = existsSync(CHROMIUM)
  ? false
  : `skipped: ${CHROMIUM} is absent (apt-get install chromium; bash scripts/setup.sh --dev installs it)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
