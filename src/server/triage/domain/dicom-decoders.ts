/**
 * Received DICOM files read on worker threads: inflating a data set and decoding a large first frame
 * take CPU time that the event loop (DIMSE, HTTP, the other channels) must not spend. At most `size`
 * files are read at once, the others wait their turn. A worker that dies fails the file it was
 * reading, and a new one takes its place.
 */
import type { Worker } from 'node:worker_threads';
import { DicomError, type DicomHeader } from '../../../data/dicom/index.js';
import { startWorker } from './worker-thread.js';

/** A file to read: its bytes and the label that names it in messages. */
export interface DecodeRequest {
  bytes: Uint8Array;
  source: string;
}

/** The header of a file whose first frame decodes; the reason of a {@link DicomError}; or any other failure. */
export type DecodeReply = { header: DicomHeader } | { reason: string } | { error: string };

interface Job {
  request: DecodeRequest;
  resolve: (header: DicomHeader) => void;
  reject: (error: Error) => void;
}

export class DicomDecoders {
  /** Each started worker and the job it is reading (undefined: idle). */
  readonly #workers = new Map<Worker, Job | undefined>();
  readonly #waiting: Job[] = [];
  #closed = false;

  constructor(
    /** Most files read at once, each on a thread of its own. */
    private readonly size: number,
  ) {}

  /**
   * The header of `request`'s file, read as `readDicom` reads it: its first frame decoded, within the default DICOM limits.
   * @throws {@link DicomError} naming `request.source` when the file cannot be used.
   */
  decode(request: DecodeRequest): Promise<DicomHeader> {
    if (this.#closed) return Promise.reject(new Error('the DICOM decoders are closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ request, resolve, reject });
      this.#next();
    });
  }

  /** Stops every worker; files being read or waiting fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) job.reject(new Error('the DICOM decoders are closed'));
    await Promise.all([...this.#workers.keys()].map((worker) => worker.terminate()));
  }

  /** Hands waiting files to idle workers, starting workers up to {@link size}. */
  #next(): void {
    while (this.#waiting.length > 0) {
      const idle = [...this.#workers].find(([, job]) => !job)?.[0];
      const worker = idle ?? (this.#workers.size < this.size ? this.#start() : undefined);
      if (!worker) return;
      const job = this.#waiting.shift()!;
      this.#workers.set(worker, job);
      // A copy of just these bytes, to hand over: `bytes` may view a larger buffer (a whole multipart body) that
      // postMessage would copy whole. Not Buffer#slice, which views the same memory.
      const bytes = new Uint8Array(job.request.bytes);
      worker.postMessage({ bytes, source: job.request.source } satisfies DecodeRequest, [bytes.buffer]);
    }
  }

  #start(): Worker {
    const worker = startWorker('dicom-decode-worker');
    worker.on('message', (reply: DecodeReply) => {
      const job = this.#workers.get(worker);
      this.#workers.set(worker, undefined);
      if (job) settle(job, reply);
      this.#next();
    });
    const stopped = (error: Error) => {
      const job = this.#workers.get(worker);
      this.#workers.delete(worker);
      job?.reject(error);
      if (!this.#closed) this.#next();
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`the DICOM decoder stopped (exit code ${code}) while reading this file`)));
    return worker;
  }
}

function settle({ request, resolve, reject }: Job, reply: DecodeReply): void {
  if ('header' in reply) resolve(reply.header);
  else if ('reason' in reply) reject(new DicomError(request.source, reply.reason));
  else reject(new Error(reply.error));
}
