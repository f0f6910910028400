/**
 * Just enough of XMLHttpRequest (on fetch) for npm dicomweb-client, which was written for browsers,
 * to run its requests in Node: open, setRequestHeader, send, readyState/status/response, headers.
 */
class FetchXmlHttpRequest {
  readyState = 0;
  status = 0;
  response: unknown = null;
  responseType = '';
  withCredentials = false;
  onreadystatechange: (() => void) | null = null;
  onloadstart: (() => void) | null = null;
  onloadend: (() => void) | null = null;
  onprogress: (() => void) | null = null;
  #method = 'GET';
  #url = '';
  #headers = new Headers();
  #responseHeaders = new Headers();

  open(method: string, url: string): void {
    this.#method = method;
    this.#url = url;
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    this.#headers.set(name, value);
  }

  getResponseHeader(name: string): string | null {
    return this.#responseHeaders.get(name);
  }

  getAllResponseHeaders(): string {
    return [...this.#responseHeaders].map(([name, value]) => `${name}: ${value}\r\n`).join('');
  }

  send(body?: ArrayBuffer | string): void {
    void fetch(this.#url, { method: this.#method, headers: this.#headers, body: body as BodyInit | undefined })
      .then(async (response) => {
        this.status = response.status;
        this.#responseHeaders = response.headers;
        const bytes = await response.arrayBuffer();
        this.response = this.responseType === 'arraybuffer' ? bytes : new TextDecoder().decode(bytes);
      })
      .catch(() => {
        this.status = 0;
      })
      .finally(() => {
        this.readyState = 4;
        this.onreadystatechange?.();
      });
  }
}

/** Installs the shim as the global XMLHttpRequest (once). */
export function installXmlHttpRequest(): void {
  (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest ??= FetchXmlHttpRequest;
}
