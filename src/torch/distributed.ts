/**
 * Data-parallel collectives on PyTorch's c10d: a rendezvous through c10d's TCPStore from the standard
 * variables (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK, as torchrun, Slurm scripts and
 * Kubernetes operators set them), a process group (Gloo on CPUs; NCCL for CUDA tensors when the addon was
 * built against a CUDA libtorch that has it), and the collectives training needs. Every collective blocks
 * until it is done and is bounded by the group's timeout; a failure becomes a `DistributedError` that names
 * this rank, the cause, and what the other ranks reported (or that they did not).
 */
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { isIPv6 } from 'node:net';
import { native, type GroupHandle, type ReducerHandle, type StoreHandle } from './native.js';
import { Tensor, type Device } from './tensor.js';
import * as nn from './nn/index.js';

/** Where this process stands in a data-parallel run. */
export interface DistributedEnv {
  masterAddr: string;
  masterPort: number;
  worldSize: number;
  rank: number;
  /** Rank among the processes of this machine (picks its GPU). */
  localRank: number;
}

export type Backend = 'gloo' | 'nccl';

/** A failure of the rendezvous or of a collective, with the rank it happened on. */
export class DistributedError extends Error {
  override name = 'DistributedError';
}

/** The default bound on the rendezvous and on every collective (c10d's own default is 30 minutes). */
export const DEFAULT_TIMEOUT_MS = 300_000;
/** Gradient bucket size, DDP's default (25 MiB). */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/**
 * The run this process belongs to, from the environment; undefined when WORLD_SIZE is not set (a process
 * on its own). A variable that is missing or malformed is an error naming it.
 */
export function distributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | undefined {
  if (env.WORLD_SIZE === undefined) return undefined;
  const integer = (name: string, min: number, fallback?: number): number => {
    const raw = env[name];
    if (raw === undefined && fallback !== undefined) return fallback;
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isInteger(value) || value < min)
      throw new Error(
        `${name} must be an integer of at least ${min} in a distributed run (WORLD_SIZE is set), got ${raw === undefined ? 'nothing' : `'${raw}'`}`,
      );
    return value;
  };
  const worldSize = integer('WORLD_SIZE', 1);
  const rank = integer('RANK', 0);
  if (rank >= worldSize) throw new Error(`RANK ${rank} is not below WORLD_SIZE ${worldSize}`);
  const masterAddr = env.MASTER_ADDR?.trim();
  if (!masterAddr) throw new Error('MASTER_ADDR must name the host of rank 0 in a distributed run (WORLD_SIZE is set)');
  const masterPort = integer('MASTER_PORT', 1);
  if (masterPort > 65535) throw new Error(`MASTER_PORT must be a port number, got ${masterPort}`);
  return { masterAddr, masterPort, worldSize, rank, localRank: integer('LOCAL_RANK', 0, rank) };
}

/** NCCL for CUDA tensors when the addon has it, Gloo otherwise (CPU tensors, or a CPU-only libtorch). */
export function backendFor(device: Device): Backend {
  return device.startsWith('cuda') && native.distAvailable().nccl ? 'nccl' : 'gloo';
}

export interface InitOptions {
  /** The device the collectives' tensors live on; picks the backend (default 'cpu'). */
  device?: Device;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The local address that routes to `host`: Gloo listens there, so that the other ranks reach this one over
 * the network the rendezvous goes through (a connected UDP socket picks the route without sending anything).
 */
async function addressToward(host: string, port: number): Promise<string> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, resolve);
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

/** Joins the run the environment describes: the rendezvous, then a process group over every rank. */
export async function initProcessGroup(o: InitOptions = {}): Promise<ProcessGroup> {
  const env = distributedEnv(o.env);
  if (!env) throw new Error('not a distributed run: WORLD_SIZE is not set');
  if (!native.distAvailable().gloo) throw new Error("this addon was built without c10d's Gloo (install libgloo-dev and rebuild: bash scripts/setup.sh)");
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { masterAddr, masterPort, worldSize, rank } = env;
  const at = `${masterAddr}:${masterPort}`;
  const seconds = `${timeoutMs / 1000} s`;
  let store: StoreHandle;
  try {
    store = native.distStore(masterAddr, masterPort, rank === 0, worldSize, timeoutMs);
  } catch (error) {
    throw new DistributedError(
      rank === 0
        ? `rank 0 could not host the rendezvous store at ${at}: ${message(error)}`
        : `rank ${rank} could not reach the rendezvous store of rank 0 at ${at} within ${seconds}: ${message(error)}`,
    );
  }
  const joined = (r: number) => `findstroke/joined/${r}`;
  native.distStoreSet(store, joined(rank), `${hostname()} pid ${process.pid}`);
  const everyone = Array.from({ length: worldSize }, (_, r) => r);
  try {
    native.distStoreWait(store, everyone.map(joined), timeoutMs);
  } catch (error) {
    const missing = everyone.filter((r) => !native.distStoreCheck(store, [joined(r)]));
    throw new DistributedError(
      missing.length
        ? `rank ${rank}: rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${worldSize} did not join the run at ${at} within ${seconds}`
        : `rank ${rank}: the rendezvous at ${at} failed: ${message(error)}`,
    );
  }
  const device = o.device ?? 'cpu';
  const address = await addressToward(masterAddr, masterPort);
  const group = new ProcessGroup(store, env, device, timeoutMs);
  group.connect(address);
  return group;
}

/**
 * Makes every batch norm of `model` normalise in training mode with the statistics of the global batch, summed
 * over `group`'s ranks (PyTorch's SyncBatchNorm.convert_sync_batchnorm, in place: the layers stay `BatchNorm`s).
 */
export function convertSyncBatchNorm(model: nn.Module, group: ProcessGroup): void {
  for (const [, m] of model.namedModules()) if (m instanceof nn.BatchNorm) m.sumOverProcesses = (t) => group.allreduceSum(t);
}

/** The gradient all-reduces of data-parallel training, started during backward (see {@link ProcessGroup.gradientReducer}). */
export class GradientReducer {
  #handle: ReducerHandle | undefined;
  readonly #run: <R>(what: string, collective: () => R) => R;

  /** @internal use {@link ProcessGroup.gradientReducer} */
  constructor(
    handle: ReducerHandle,
    readonly params: readonly Tensor[],
    run: <R>(what: string, collective: () => R) => R,
  ) {
    this.#handle = handle;
    this.#run = run;
  }

  /**
   * Completes the step's all-reduces (launching the buckets backward did not complete: a parameter without
   * gradient counts as zeros), replaces every gradient by its mean over the ranks, and `extras` (the loss) in
   * place by theirs. Returns how many buckets had been launched during backward.
   */
  finish(extras: Tensor[] = []): number {
    const handle = this.#handle;
    if (!handle) throw new Error('the gradient reducer was destroyed');
    return this.#run('all-reduce', () =>
      native.distReducerFinish(
        handle,
        extras.map((t) => t.handle),
      ),
    );
  }

  /** Removes its hooks from the parameters' gradient accumulators. */
  destroy(): void {
    if (this.#handle) native.distReducerDestroy(this.#handle);
    this.#handle = undefined;
  }
}

/** The ranks of a run and the collectives between them. */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  /** Where the tensors of its collectives live (NCCL takes only CUDA tensors). */
  readonly device: Device;
  readonly backend: Backend;
  readonly timeoutMs: number;
  readonly #store: StoreHandle;
  readonly #rendezvous: string;
  #group: GroupHandle | undefined;

  /** @internal use {@link initProcessGroup} */
  constructor(store: StoreHandle, env: DistributedEnv, device: Device, timeoutMs: number) {
    this.#store = store;
    this.rank = env.rank;
    this.worldSize = env.worldSize;
    this.localRank = env.localRank;
    this.device = device;
    this.backend = backendFor(device);
    this.timeoutMs = timeoutMs;
    this.#rendezvous = `${env.masterAddr}:${env.masterPort}`;
  }

  /** @internal Connects every pair of ranks, this one listening on `address` (Gloo). */
  connect(address: string): void {
    this.#group = this.#run('connecting the ranks', () =>
      native.distProcessGroup(this.#store, this.rank, this.worldSize, this.backend, this.timeoutMs, address),
    );
  }

  get isMain(): boolean {
    return this.rank === 0;
  }

  /** Replaces each tensor in place by its mean over the ranks, in flattened buckets of about `bucketBytes`. */
  allreduceMean(tensors: Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES): void {
    if (tensors.length)
      this.#run('all-reduce', () =>
        native.distAllreduceMean(
          this.#handle(),
          tensors.map((t) => t.handle),
          bucketBytes,
        ),
      );
  }

  /**
   * Averages `params`' gradients over the ranks as DDP does, overlapped with backward: buckets of about
   * `bucketBytes`, in reverse parameter order, each all-reduced as soon as backward has accumulated its last
   * gradient. Call {@link GradientReducer.finish} after every backward pass, and destroy it when training ends.
   */
  gradientReducer(params: Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES): GradientReducer {
    const handle = this.#run('creating the gradient reducer', () =>
      native.distGradientReducer(
        this.#handle(),
        params.map((t) => t.handle),
        bucketBytes,
      ),
    );
    return new GradientReducer(handle, params, (what, collective) => this.#run(what, collective));
  }

  /**
   * The sum of `tensor` over the ranks, as a new tensor. Differentiable, as PyTorch's
   * torch.distributed.nn.functional.all_reduce: its backward pass sums the output's gradients over the ranks,
   * so every rank's backward pass must reach it too (as it does when the ranks run the same model).
   */
  allreduceSum(tensor: Tensor): Tensor {
    return new Tensor(this.#run('all-reduce', () => native.distAllreduceSum(this.#handle(), tensor.handle)));
  }

  /** Replaces each tensor in place by rank `root`'s. */
  broadcast(tensors: Tensor[], root = 0): void {
    if (tensors.length)
      this.#run('broadcast', () =>
        native.distBroadcast(
          this.#handle(),
          tensors.map((t) => t.handle),
          root,
        ),
      );
  }

  /** Every rank's `tensor` (the same shape on every rank), stacked in rank order along a new first dimension. */
  allgather(tensor: Tensor): Tensor {
    return new Tensor(this.#run('all-gather', () => native.distAllgather(this.#handle(), tensor.handle)));
  }

  /** Returns once every rank has called it. */
  barrier(): void {
    this.#run('barrier', () => native.distBarrier(this.#handle()));
  }

  /**
   * Tells the other ranks why this one stops (best effort: the store may be gone), so that their errors can
   * say so rather than only that this rank vanished.
   */
  reportFailure(reason: string): void {
    try {
      native.distStoreSet(this.#store, ProcessGroup.#failureKey(this.rank), reason);
    } catch {
      // Nothing to tell them through: the others will find this rank silent.
    }
  }

  /** Releases the group (Gloo's connections and threads). */
  destroy(): void {
    if (this.#group) native.distDestroy(this.#group);
    this.#group = undefined;
  }

  static #failureKey(rank: number): string {
    return `findstroke/failed/${rank}`;
  }

  #handle(): GroupHandle {
    if (!this.#group) throw new Error(`rank ${this.rank}: the process group is not connected (or was destroyed)`);
    return this.#group;
  }

  #run<R>(what: string, collective: () => R): R {
    try {
      return collective();
    } catch (error) {
      throw new DistributedError(this.#diagnose(what, message(error)));
    }
  }

  /**
   * The error of a failed collective: this rank's cause, then each other rank's report; a rank that sends
   * none within a few seconds is named as died, hung or unreachable. When the store itself is gone, rank 0,
   * its host, is the one that died.
   */
  #diagnose(what: string, cause: string): string {
    const head = `rank ${this.rank}: ${what} failed: ${cause}`;
    try {
      native.distStoreSet(this.#store, ProcessGroup.#failureKey(this.rank), `${what} failed: ${cause}`);
      // A set may be written into a socket whose peer has just died without failing; a get needs the store's answer.
      native.distStoreGet(this.#store, ProcessGroup.#failureKey(this.rank));
    } catch (error) {
      return `${head}. Rank 0, which hosts the rendezvous store at ${this.#rendezvous}, is unreachable (${message(error)}): it died or its machine is down`;
    }
    const graceMs = Math.min(this.timeoutMs, 5000);
    const deadline = performance.now() + graceMs;
    const reports: string[] = [];
    const silent: number[] = [];
    for (let r = 0; r < this.worldSize; r++) {
      if (r === this.rank) continue;
      try {
        native.distStoreWait(this.#store, [ProcessGroup.#failureKey(r)], Math.max(1, Math.round(deadline - performance.now())));
        reports.push(`Rank ${r} reported: ${native.distStoreGet(this.#store, ProcessGroup.#failureKey(r))}`);
      } catch {
        silent.push(r);
      }
    }
    if (silent.length)
      reports.push(`Rank${silent.length > 1 ? 's' : ''} ${silent.join(', ')} sent no report within ${graceMs / 1000} s: died, hung or cannot be reached`);
    return [head, ...reports].join('. ');
  }
}
