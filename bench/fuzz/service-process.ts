/**
 * `findstroke serve` as a child process, so that a crash shows as the process exiting (with its
 * last output) and memory is the service's own: VmRSS and VmHWM of /proc/PID/status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const STARTED = /API at http:\/\/[^\s:]+:(\d+)\/, DICOM C-STORE on \S+:(\d+)/;
const OUTPUT_KEPT = 16_000;

export interface ServeOptions {
  modelPath: string;
  dataDir: string;
  token: string;
  /** The only calling AE title the SCP accepts. */
  aeTitle: string;
  quietSeconds: number;
  threads: number;
  /** How long start-up (model load included) may take. */
  startTimeoutMs: number;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServiceProcess {
  #output = '';
  readonly exited: Promise<ServiceExit>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly dicomPort: number,
    output: string,
    exited: Promise<ServiceExit>,
  ) {
    this.#output = output;
    this.exited = exited;
    const keep = (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-OUTPUT_KEPT));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
  }

  /** Starts the service and waits for the line that says where it listens. */
  static async start(options: ServeOptions): Promise<ServiceProcess> {
    const args = ['--import', 'tsx', CLI, 'serve', '--model', options.modelPath, '--data', options.dataDir, '--port', '0', '--dicom-port', '0'];
    args.push('--token', options.token, '--ae-title', options.aeTitle, '--quiet-seconds', String(options.quietSeconds), '--threads', String(options.threads));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<ServiceExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let output = '';
    const listening = new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`findstroke serve did not start within ${options.startTimeoutMs} ms:\n${output}`)),
        options.startTimeoutMs,
      );
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const match = STARTED.exec(output);
        if (!match) return;
        clearTimeout(timer);
        child.stdout!.off('data', read);
        child.stderr!.off('data', read);
        resolve(match);
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`findstroke serve exited (${signal ?? code}) before it listened:\n${output}`));
      });
    });
    const match = await listening;
    return new ServiceProcess(child, Number(match[1]), Number(match[2]), output, exited);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The last of what the service printed. */
  output(): string {
    return this.#output;
  }

  /** Resident memory now and at its peak, in MiB; undefined once the process is gone. */
  memory(): { rssMb: number; peakMb: number } | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
      const [rssMb, peakMb] = [kib('VmRSS') / 1024, kib('VmHWM') / 1024];
      // A process that has exited but not been reaped has a status without memory lines.
      return Number.isNaN(rssMb) || Number.isNaN(peakMb) ? undefined : { rssMb, peakMb };
    } catch {
      return undefined;
    }
  }

  /** SIGTERM (the service finishes what it is doing and closes), then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<ServiceExit & { killed: boolean }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return { ...(await this.exited), killed: false };
    this.child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return { ...exit, killed };
  }
}
