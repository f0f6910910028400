/** A triage service on free loopback ports over a temporary data folder, with short timings for tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTriageService, type TriageService, type TriageServiceOptions } from '../../../src/server/triage/service.js';
import { triageTestModel } from './model.js';

export interface TestService extends TriageService {
  /** Fetches `path` on the service (with the token when there is one). */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Closes the service and removes its data folder. */
  dispose(): Promise<void>;
}

export async function startTestService(options: Partial<TriageServiceOptions> = {}): Promise<TestService> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'findstroke-triage-')));
  const service = await startTriageService({
    modelPath: await triageTestModel(),
    dataDir,
    port: 0,
    dicomPort: 0,
    quietSeconds: 0.5,
    inboxIntervalMs: 100,
    threads: 1,
    ...options,
  });
  const api = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (options.token && !headers.has('authorization')) headers.set('authorization', `Bearer ${options.token}`);
    return fetch(`${service.url}${path}`, { ...init, headers });
  };
  return {
    ...service,
    api,
    dispose: async () => {
      await service.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
