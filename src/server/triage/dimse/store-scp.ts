/**
 * The DICOM C-STORE SCP (PS3.4 Annex B, PS3.7 9.1.1) scanners and PACS send CT series to. Associations
 * from calling AE titles that are not configured are rejected (PS3.8 9.3.4, "calling AE title not
 * recognized"); every storage SOP class is accepted at association so that a refused instance (e.g.
 * MR) gets a C-STORE failure status with the reason in Error Comment rather than a silent abort.
 * Connections are bounded in number and in time, so that no sender can hold the process's file
 * descriptors: one that sends no A-ASSOCIATE-RQ is closed when the ARTIM timer expires (PS3.8 9.1.5), an
 * association over which nothing arrives for a while is aborted, and past a cap new connections are closed.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import { SUPPORTED_TRANSFER_SYNTAX_UIDS, writePart10 } from '../../../data/dicom/index.js';
import type { Ingestor } from '../domain/ingest.js';
import { CommandSetCheck } from './command-set.js';
import { ERROR_COMMENT_MAX, IngestRejection, STORE_STATUS } from '../domain/store-status.js';
import type { TriageStore } from '../domain/store.js';

const { Scp, Dataset, constants, responses, log } = dimse;
const { AbortReason, AbortSource, PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass, StorageClass, TransferSyntax } = constants;

type Association = Parameters<InstanceType<typeof Scp>['associationRequested']>[0];
type PresentationContext = ReturnType<Association['getPresentationContext']>;
type CStoreRequest = Parameters<InstanceType<typeof Scp>['cStoreRequest']>[0];
type CStoreResponse = InstanceType<typeof responses.CStoreResponse>;
type DimseDataset = InstanceType<typeof Dataset>;

export interface StoreScpOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Calling AE titles allowed to associate; empty: any. */
  callingAeTitles: readonly string[];
  ingestor: Ingestor;
  store: TriageStore;
  /**
   * The ARTIM timer (PS3.8 9.1.5), in ms: how long a connection may go without an A-ASSOCIATE-RQ, and how
   * long a peer has to close the connection after a reject, a release or an abort.
   */
  artimTimeoutMs: number;
  /** An association over which nothing arrives for this long, while none of its requests is being handled, is aborted; in ms. */
  idleTimeoutMs: number;
  /** DICOM connections open at once; a connection past it is closed on arrival. */
  maxConnections: number;
}

export interface RunningStoreScp {
  port: number;
  close(): Promise<void>;
}

const STORAGE_SOP_CLASSES = new Set<string>(Object.values(StorageClass));
const INTERRUPTED_TRANSFER =
  'the DICOM transfer was cut off before the sender released the association: slices may be missing; ask the sender to send the study again';
/** Deflated data sets (PS3.5 A.5) would need re-wrapping behind the File Meta Information; senders offer others too. */
const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
/** Explicit VR Little Endian first when offered: no ambiguity about VRs. */
const PREFERRED_SYNTAXES = [
  TransferSyntax.ExplicitVRLittleEndian,
  ...SUPPORTED_TRANSFER_SYNTAX_UIDS.filter((uid) => uid !== DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN),
];

/**
 * Listens for associations on `host:port`. dcmjs-dimse's own Server binds every interface, so the
 * socket is opened here (loopback by default) and each connection handed to an SCP instance.
 */
export async function startStoreScp(options: StoreScpOptions): Promise<RunningStoreScp> {
  // dcmjs-dimse logs every PDU at 'info'; the audit log already records what matters.
  log.setLevel('warn');
  const closings = new ConnectionAudit(options.store);
  const ScpClass = triageScpClass(options, closings);
  /** Each open connection, with a promise of its 'close' (after which its SCP has cleared its timer). */
  const sockets = new Map<Socket, Promise<void>>();
  const server: NetServer = createServer((socket) => {
    sockets.set(socket, new Promise((resolve) => socket.once('close', () => resolve())));
    socket.once('close', () => sockets.delete(socket));
    // A reset connection is the client's problem; the SCP reports it as a network error and moves on.
    socket.on('error', () => undefined);
    const scp = new ScpClass(socket);
    scp.on('networkError', () => socket.destroy());
    // An A-ABORT ends the association at once; the acceptor closes the connection (PS3.8 9.2.6, AA-3), or the sender waits for it.
    scp.on('abort', () => socket.destroy());
  });
  // Node closes a connection past the cap as soon as it is accepted, and says so with 'drop'.
  server.maxConnections = options.maxConnections;
  server.on('drop', (peer) => closings.record(peer?.remoteAddress, `refused: ${options.maxConnections} DICOM connections are open, the most allowed`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        // The server's 'close' can come before its sockets' own: those are awaited too, so no connection's timer outlives the SCP.
        const socketsClosed = Promise.all(sockets.values());
        for (const socket of sockets.keys()) socket.destroy();
        server.close(
          () =>
            void socketsClosed.then(() => {
              closings.close();
              resolve();
            }),
        );
      }),
  };
}

/** The received data set, kept as bytes rather than parsed by dcmjs: findstroke's own reader parses it once. */
const receivedBytes = new WeakMap<DimseDataset, { bytes: Buffer; length: number; overflow: boolean; transferSyntaxUid: string }>();

/** dcmjs-dimse's own PDU handling, which {@link triageScpClass}'s `_processPdu` calls for well-formed PDUs (not in its typings). */
const processPdu = (Scp.prototype as unknown as { _processPdu(this: unknown, pdu: Buffer): Promise<void> })._processPdu;

function triageScpClass({ callingAeTitles, ingestor, store, artimTimeoutMs, idleTimeoutMs }: StoreScpOptions, closings: ConnectionAudit) {
  return class TriageScp extends Scp {
    readonly #socket: Socket;
    readonly #peer: string | undefined;
    #association: Association | undefined;
    /** Studies this association has stored new instances of: their transfer ends at A-RELEASE, or is cut off with the connection. */
    readonly #studies = new Set<string>();
    /** The connection's one timer: the ARTIM timer outside an association, the idle timer within one. */
    #timer: NodeJS.Timeout | undefined;
    #associated = false;
    #requestsInProgress = 0;

    constructor(socket: Socket) {
      // dcmjs-dimse's own timers stay off (its `connected` flag, which gates them, stays false, and the socket
      // timeout it sets is cleared): its association timeout counts from a 'connect' event an accepted socket never emits.
      super(socket);
      socket.setTimeout(0);
      this.#socket = socket;
      this.#peer = socket.remoteAddress;
      this.#startArtim(`no A-ASSOCIATE-RQ within ${seconds(artimTimeoutMs)}`);
      socket.on('data', () => {
        if (this.#associated && this.#requestsInProgress === 0) this.#startIdleTimer();
      });
      socket.once('close', () => {
        clearTimeout(this.#timer);
        this.#endTransfers(INTERRUPTED_TRANSFER);
      });
    }

    /** PS3.8 9.1.5: the connection is closed when the ARTIM timer expires. */
    #startArtim(reason: string): void {
      this.#associated = false;
      this.#setTimer(artimTimeoutMs, () => {
        closings.record(this.#peer, `closed: ${reason}`);
        this.#socket.destroy();
      });
    }

    readonly #commandSets = new CommandSetCheck();

    /** dcmjs-dimse hands every received PDU to this method; a malformed command set aborts the association before it is parsed. */
    async _processPdu(pdu: Buffer): Promise<void> {
      const fault = this.#commandSets.fault(pdu);
      if (!fault) return processPdu.call(this, pdu);
      closings.record(this.#peer, `association aborted: ${fault}`);
      // A-ABORT by the service-provider for an unrecognised or malformed PDU parameter (PS3.8 9.3.8).
      this.sendAbort(AbortSource.ServiceProvider, AbortReason.InvalidPduParameter);
      this.#socket.end();
      this.#startArtim(`still open ${seconds(artimTimeoutMs)} after the association was aborted`);
    }

    #startIdleTimer(): void {
      this.#associated = true;
      this.#setTimer(idleTimeoutMs, () => {
        closings.record(this.#peer, `association aborted: nothing received for ${seconds(idleTimeoutMs)}`);
        // A-ABORT from the service-user, whose reason is then not significant (PS3.8 9.3.8); then ARTIM until the peer closes.
        this.sendAbort(AbortSource.ServiceUser, AbortReason.NotSpecified);
        this.#socket.end();
        this.#startArtim(`still open ${seconds(artimTimeoutMs)} after the association was aborted`);
      });
    }

    /** Replaces the connection's timer; a closed connection has none. */
    #setTimer(ms: number, expire: () => void): void {
      clearTimeout(this.#timer);
      this.#timer = this.#socket.destroyed ? undefined : setTimeout(() => this.#socket.destroyed || expire(), ms);
    }

    override associationRequested(association: Association): void {
      this.#association = association;
      const calling = association.getCallingAeTitle().trim();
      if (callingAeTitles.length > 0 && !callingAeTitles.includes(calling)) {
        store.audit(
          'association-refused',
          `dimse ${calling}`,
          `calling AE title ${JSON.stringify(calling)} is not configured (accepted: ${callingAeTitles.join(', ')})`,
        );
        this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
        this.#startArtim(`still open ${seconds(artimTimeoutMs)} after the association was rejected`);
        return;
      }
      for (const { id } of association.getPresentationContexts()) negotiate(association.getPresentationContext(id));
      this.sendAssociationAccept();
      this.#startIdleTimer();
    }

    /** A-RELEASE (PS3.8 7.2): the sender has sent all it meant to; its studies' transfers end cleanly. */
    override associationReleaseRequested(): void {
      this.#endTransfers();
      this.sendAssociationReleaseResponse();
      this.#startArtim(`still open ${seconds(artimTimeoutMs)} after the association was released`);
    }

    /**
     * Ends the transfers of the studies this association stored new instances of: cleanly at A-RELEASE, or
     * cut off (`interruption`) when the connection ends without it (an A-ABORT, or the network or sender
     * gone), which may have delivered only part of each study: those are marked incomplete.
     */
    #endTransfers(interruption?: string): void {
      for (const studyUid of this.#studies) store.transferEnded(studyUid, interruption);
      this.#studies.clear();
    }

    override cEchoRequest(
      request: Parameters<InstanceType<typeof Scp>['cEchoRequest']>[0],
      callback: (response: InstanceType<typeof responses.CEchoResponse>) => void,
    ): void {
      const response = responses.CEchoResponse.fromRequest(request);
      response.setStatus(STORE_STATUS.success);
      callback(response);
    }

    override createStoreWritableStream(): Writable {
      return new CappedBuffer(ingestor.maxInstanceBytes);
    }

    override createDatasetFromStoreWritableStream(writable: Writable, context: PresentationContext, callback: (dataset: DimseDataset) => void): void {
      const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian;
      const dataset = new Dataset({}, transferSyntaxUid);
      const buffer = writable as CappedBuffer;
      receivedBytes.set(dataset, { bytes: buffer.bytes(), length: buffer.length, overflow: buffer.overflow, transferSyntaxUid });
      callback(dataset);
    }

    override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
      const calling = this.#association?.getCallingAeTitle().trim() ?? '?';
      // The sender is waiting for the answer, not idle.
      this.#requestsInProgress++;
      if (this.#associated) clearTimeout(this.#timer);
      void storeInstance(request, calling).then(({ response, studyUid }) => {
        if (studyUid && !this.#studies.has(studyUid)) {
          this.#studies.add(studyUid);
          store.transferStarted(studyUid);
        }
        callback(response);
        if (--this.#requestsInProgress === 0 && this.#associated) this.#startIdleTimer();
      });
    }
  };

  /** Stores the request's instance; `studyUid` names the study when a new instance of it was stored. */
  async function storeInstance(request: CStoreRequest, calling: string): Promise<{ response: CStoreResponse; studyUid?: string }> {
    const response = responses.CStoreResponse.fromRequest(request);
    const received = receivedBytes.get(request.getDataset() as DimseDataset);
    const sopUid = request.getAffectedSopInstanceUid();
    const origin = { channel: 'dimse' as const, sender: calling, name: sopUid };
    try {
      if (!received) throw ingestor.refuse(new IngestRejection(STORE_STATUS.cannotUnderstand, 'no data set received'), origin, sopUid);
      if (received.overflow) throw ingestor.refuse(ingestor.tooLarge(received.length), origin, sopUid);
      const ingested = await ingestor.ingest(part10(received.bytes, request.getAffectedSopClassUid(), sopUid, received.transferSyntaxUid), origin);
      response.setStatus(STORE_STATUS.success);
      return { response, ...(!ingested.duplicate && { studyUid: ingested.studyUid }) };
    } catch (error) {
      // Ingestion refusals are already audited; anything else is a store failure, answered as out of resources.
      const rejection = error instanceof IngestRejection ? error : new IngestRejection(STORE_STATUS.outOfResources, (error as Error).message);
      response.setStatus(rejection.status);
      response.setErrorComment(rejection.reason.slice(0, ERROR_COMMENT_MAX));
    }
    return { response };
  }
}

/** Accepts Verification and every storage SOP class, in the first transfer syntax findstroke can decode. */
function negotiate(context: PresentationContext): void {
  const abstractSyntax = context.getAbstractSyntaxUid();
  if (abstractSyntax !== SopClass.Verification && !STORAGE_SOP_CLASSES.has(abstractSyntax)) {
    context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
    return;
  }
  const offered = context.getTransferSyntaxUids();
  const chosen = PREFERRED_SYNTAXES.find((uid) => offered.includes(uid));
  if (chosen) context.setResult(PresentationContextResult.Accept, chosen);
  else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
}

/**
 * A Part 10 file (PS3.10 7.1) of a data set received over the network: the File Meta Information
 * from the C-STORE request and the negotiated transfer syntax, then the data set's bytes as received.
 */
function part10(dataSet: Buffer, sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): Uint8Array {
  const meta = writePart10([], { sopClassUid, sopInstanceUid, transferSyntaxUid });
  const file = new Uint8Array(meta.length + dataSet.length);
  file.set(meta);
  file.set(dataSet, meta.length);
  return file;
}

/** Collects a data set's bytes up to a limit; past it, keeps counting but drops the bytes. */
class CappedBuffer extends Writable {
  readonly #chunks: Buffer[] = [];
  #length = 0;
  overflow = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#length += chunk.length;
    if (this.#length > this.limit) {
      this.overflow = true;
      this.#chunks.length = 0;
    } else {
      this.#chunks.push(chunk);
    }
    done();
  }

  /** Bytes written, kept or not. */
  get length(): number {
    return this.#length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

/** `ms` in seconds, for messages: "30 s", "0.2 s". */
function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** How long after an audited closing the same kind of closing is only counted. */
const CLOSINGS_WINDOW_MS = 60_000;
/** Addresses named in a summary of closings; the rest are counted. */
const ORIGINS_LISTED = 10;

/**
 * Audits the connections the SCP closes or refuses without letting a flood of them flood the log: the
 * first of each kind at once, the rest of the following minute as one entry with their count and origins.
 */
class ConnectionAudit {
  /** Per kind (the audited detail) in its window: the peers since counted, with how many from each. */
  readonly #windows = new Map<string, { timer: NodeJS.Timeout; peers: Map<string, number> }>();

  constructor(private readonly store: TriageStore) {}

  record(peer: string | undefined, detail: string): void {
    const address = peer ?? 'unknown address';
    const window = this.#windows.get(detail);
    if (window) {
      window.peers.set(address, (window.peers.get(address) ?? 0) + 1);
      return;
    }
    this.store.audit('connection-closed', `dimse ${address}`, detail);
    this.#windows.set(detail, { timer: setTimeout(() => this.#summarise(detail), CLOSINGS_WINDOW_MS).unref(), peers: new Map() });
  }

  /** Writes what the open windows counted; called when the SCP stops. */
  close(): void {
    for (const detail of [...this.#windows.keys()]) this.#summarise(detail);
  }

  #summarise(detail: string): void {
    const { timer, peers } = this.#windows.get(detail)!;
    clearTimeout(timer);
    this.#windows.delete(detail);
    if (peers.size === 0) return;
    const count = [...peers.values()].reduce((sum, n) => sum + n, 0);
    const listed = [...peers].slice(0, ORIGINS_LISTED).map(([address, n]) => `${address} (${n})`);
    const origins = `${listed.join(', ')}${peers.size > ORIGINS_LISTED ? ` and ${peers.size - ORIGINS_LISTED} more addresses` : ''}`;
    this.store.audit(
      'connection-closed',
      'dimse',
      `${detail}: ${count} more connection${count === 1 ? '' : 's'} within ${seconds(CLOSINGS_WINDOW_MS)} of the first, from ${origins}`,
    );
  }
}
