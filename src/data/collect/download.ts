/** Fetching one URL's bytes over HTTP(S), with a timeout, a size limit and retries with backoff. */
import { setTimeout as sleep } from 'node:timers/promises';
import { CollectError } from './errors.js';
import { httpUrlProblem } from './input-checks.js';

/** How patient and how generous one download is. */
export interface DownloadLimits {
  /** Per attempt, from request to last byte. */
  timeoutMs: number;
  /** Further attempts after a network error, a timeout, HTTP 5xx or 429. */
  retries: number;
  /** Wait before the first retry; doubles for each further one. */
  backoffMs: number;
  /** Larger responses are refused without reading them to the end. */
  maxBytes: number;
}

/** A response body and the type the server claimed for it. */
export interface Downloaded {
  bytes: Buffer;
  contentType: string | undefined;
}

/** A refusal that another attempt might not meet (the server or network may recover). */
class TransientError extends CollectError {}

/** Downloads `url`, retrying transient failures. Throws a {@link CollectError} naming the URL and the reason. */
export async function download(url: string, limits: DownloadLimits): Promise<Downloaded> {
  const problem = httpUrlProblem(url);
  if (problem) throw new CollectError(url, problem);
  for (let attempt = 0; ; attempt++) {
    try {
      return await downloadOnce(url, limits);
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      if (attempt === limits.retries) {
        throw new CollectError(url, attempt === 0 ? error.reason : `${error.reason} (${attempt + 1} attempts)`);
      }
      await sleep(limits.backoffMs * 2 ** attempt);
    }
  }
}

async function downloadOnce(url: string, limits: DownloadLimits): Promise<Downloaded> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    // Some image hosts refuse requests without a user agent of their own.
    const response = await fetch(url, { signal: controller.signal, headers: { 'user-agent': 'findstroke-collect', accept: 'image/*' } });
    if (!response.ok) {
      await response.body?.cancel();
      const reason = `HTTP ${response.status} ${response.statusText}`.trim();
      throw response.status >= 500 || response.status === 429 ? new TransientError(url, reason) : new CollectError(url, reason);
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > limits.maxBytes) {
      await response.body?.cancel();
      throw new CollectError(url, `larger than the ${limits.maxBytes}-byte limit (Content-Length ${declared})`);
    }
    return { bytes: await readAtMost(response, limits.maxBytes, url), contentType: response.headers.get('content-type') ?? undefined };
  } catch (error) {
    if (error instanceof CollectError) throw error;
    if (controller.signal.aborted) throw new TransientError(url, `timed out after ${limits.timeoutMs} ms`);
    throw new TransientError(url, `network error (${networkCause(error)})`);
  } finally {
    clearTimeout(timer);
  }
}

/** The body, refused as soon as it passes `maxBytes` (servers may send no Content-Length, or a wrong one). */
async function readAtMost(response: Response, maxBytes: number, url: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body ?? []) {
    length += chunk.byteLength;
    // Leaving the loop cancels the stream, so the rest is never read.
    if (length > maxBytes) throw new CollectError(url, `larger than the ${maxBytes}-byte limit`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

/** fetch reports every network failure as `TypeError: fetch failed`; the useful part is its cause. */
function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
