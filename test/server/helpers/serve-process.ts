/** `findstroke serve` in a child process, for tests that stop, kill or restart the service or drive it from a browser. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './service.js';

/** Where `--import tsx` is found. */
const REPOSITORY = fileURLToPath(new URL('../../..', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  /** The HTTP base URL the service printed, e.g. http://127.0.0.1:41234 */
  url: string;
  dicomPort: number;
  /** Its stdout and stderr so far. */
  output: () => string;
}

/**
 * Runs `node --import tsx CLI serve ARGS` and waits for the line that says where it listens (give it
 * `--port 0 --dicom-port 0`: the ports it reports are its own, none another process can take first).
 * @throws when it exits before that line, with its output.
 */
export async function startServeProcess(cli: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', ...args], { cwd: REPOSITORY, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  // Generous: a hang guard for a cold, busy machine, not a measure of start-up time.
  const listening = await waitFor(
    'findstroke serve to start',
    () => /API at (http:\/\/\S+)\/, DICOM C-STORE on \S+:(\d+)/.exec(output) ?? (child.exitCode !== null ? null : undefined),
    180_000,
  );
  if (!listening) throw new Error(`findstroke serve exited with ${child.exitCode} before listening:\n${output}`);
  return { child, url: listening[1], dicomPort: Number(listening[2]), output: () => output };
}

/** Resolves with the exit code once `child` has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}
