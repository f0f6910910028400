/**
 * One HTTP/1.1 exchange on a fresh connection, with the request target sent exactly as given (no
 * normalisation of `//`, `.` or percent-encodings, absolute-form allowed: RFC 9112 3.2), and every
 * way it can end told apart: an answer, a reset, a refused connection, no answer in time, or a body
 * the fuzzer cut off on purpose.
 */
import { request, type IncomingHttpHeaders } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most {@link MAX_BODY} bytes; empty for an event stream, which is not read. */
  body: Buffer;
}

export type HttpOutcome = { answer: HttpAnswer } | { failure: 'reset' | 'refused' | 'timeout' | 'aborted-by-client' | 'unreadable'; detail: string };

export interface HttpExchange {
  method: string;
  /** The request target, verbatim. */
  target: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Send only this many bytes of the body (Content-Length still says the whole), then close. */
  cutBodyAt?: number;
  timeoutMs: number;
}

const MAX_BODY = 1 << 20;

export function httpExchange(port: number, exchange: HttpExchange): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: HttpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const headers = { ...(exchange.body && { 'content-length': String(exchange.body.length) }), ...exchange.headers };
    const req = request({ host: '127.0.0.1', port, method: exchange.method, path: exchange.target, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = () => ({ answer: { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) } });
      // An event stream never ends; its status and headers are the answer.
      if (String(response.headers['content-type']).startsWith('text/event-stream')) return settle(answer());
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () => settle(answer()));
      response.on('error', () => settle(answer()));
    });
    const timer = setTimeout(() => settle({ failure: 'timeout', detail: `no answer within ${exchange.timeoutMs} ms` }), exchange.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (exchange.cutBodyAt !== undefined) return settle({ failure: 'aborted-by-client', detail: `body cut at ${exchange.cutBodyAt} bytes` });
      const detail = `${error.code ?? ''} ${error.message}`.trim();
      // The service answered, but not in a form an HTTP client can read (e.g. headers past Node's 16 KiB limit).
      if (error.code?.startsWith('HPE_')) return settle({ failure: 'unreadable', detail });
      settle({ failure: error.code === 'ECONNREFUSED' ? 'refused' : 'reset', detail });
    });
    if (exchange.body && exchange.cutBodyAt !== undefined) {
      req.write(exchange.body.subarray(0, exchange.cutBodyAt), () => {
        // Closing mid-body: the service must notice the upload was interrupted and store nothing.
        setTimeout(() => settle({ failure: 'aborted-by-client', detail: `body cut at ${exchange.cutBodyAt} of ${exchange.body!.length} bytes` }), 20);
      });
    } else {
      req.end(exchange.body);
    }
  });
}
