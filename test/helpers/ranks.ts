/** Processes of the data-parallel tests: each rank's environment, and a process run to its end. */
import { spawn } from 'node:child_process';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` to its end (awaiting its 'close'), capturing its output. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** The variables of rank `rank` of `worldSize`, as torchrun sets them, with a test's timeout for the collectives. */
export function rankEnv(rank: number, worldSize: number, masterAddr: string, port: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { MASTER_ADDR: masterAddr, MASTER_PORT: String(port), WORLD_SIZE: String(worldSize), RANK: String(rank), TEST_TIMEOUT_MS: '30000', ...extra };
}
