/**
 * `--nproc N`: a data-parallel run on this machine, as torchrun's standalone mode. The launcher starts N
 * copies of the same command, each with the variables of one rank (MASTER_ADDR, MASTER_PORT, WORLD_SIZE,
 * RANK, LOCAL_RANK), waits for them, and fails naming the first rank that failed and how.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A TCP port free on this machine now, for the rendezvous (torchrun picks one the same way). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface LaunchOptions {
  /** What each rank runs: the arguments after node (script and its arguments). */
  args: string[];
  nproc: number;
  /** How long the other ranks get to stop on their own after one failed before they are terminated. */
  timeoutMs: number;
  log?: (line: string) => void;
}

/** Runs the ranks; resolves with 0 when every one succeeded, otherwise 1 after saying which rank failed first. */
export async function launchLocal(o: LaunchOptions): Promise<number> {
  const log = o.log ?? ((line: string) => console.error(line));
  const port = await freePort();
  let firstFailure: string | undefined;
  let stragglers: NodeJS.Timeout | undefined;
  const children = Array.from({ length: o.nproc }, (_, rank) =>
    spawn(process.execPath, [...process.execArgv, ...o.args], {
      stdio: 'inherit',
      env: { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: String(o.nproc), RANK: String(rank), LOCAL_RANK: String(rank) },
    }),
  );
  const running = (child: (typeof children)[number]) => child.exitCode === null && child.signalCode === null;
  await Promise.all(
    children.map(
      (child, rank) =>
        new Promise<void>((resolve) =>
          child.once('exit', (code, signal) => {
            if (code !== 0 && !firstFailure) {
              firstFailure = signal ? `rank ${rank} (pid ${child.pid}) was killed by ${signal}` : `rank ${rank} (pid ${child.pid}) exited with code ${code}`;
              // The others stop on their own once their collectives fail; this only ends ranks that hang regardless.
              stragglers = setTimeout(() => children.filter(running).forEach((c) => c.kill('SIGTERM')), o.timeoutMs);
            }
            resolve();
          }),
        ),
    ),
  );
  clearTimeout(stragglers);
  if (!firstFailure) return 0;
  log(`findstroke: the data-parallel run failed: ${firstFailure} (see its error above)`);
  return 1;
}
