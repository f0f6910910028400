// The triage service's HTTP API (src/server/triage/api.ts) as the page uses it: the token, fetches and
// the URLs of images and events.

const TOKEN_KEY = 'findstroke.token';

/** The API answered 401: a token is needed, or the one given was refused. */
export class Unauthorized extends Error {}

/** Any other refusal, with the server's `{ error }` text when it sent one. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @returns {string} the token of this tab, '' when none */
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** @param {string} token '' forgets it */
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * JSON from the API, with `Authorization: Bearer` when a token is set.
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [options]
 */
export async function api(path, options = {}) {
  const headers = new Headers({ accept: 'application/json' });
  const token = getToken();
  if (token) headers.set('authorization', `Bearer ${token}`);
  /** @type {RequestInit} */
  const init = { method: options.method ?? 'GET', headers, cache: 'no-store' };
  if (options.body !== undefined) {
    headers.set('content-type', 'application/json');
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) throw new Unauthorized(await errorText(response));
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  return response.json();
}

/** @param {Response} response */
async function errorText(response) {
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string') return body.error;
  } catch {
    // not JSON
  }
  return `${response.status} ${response.statusText}`.trim();
}

/**
 * `path` with `params` and, when a token is set, `?token=` (EventSource and <img> cannot send headers).
 * @param {string} path
 * @param {Record<string, string>} [params]
 */
export function withToken(path, params = {}) {
  const query = new URLSearchParams(params);
  const token = getToken();
  if (token) query.set('token', token);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** @param {string} uid */
export const studyPath = (uid) => `/api/studies/${encodeURIComponent(uid)}`;

/** @param {string} uid @param {number} index @param {string} window a preset name or `center,width` */
export const sliceImageUrl = (uid, index, window) => withToken(`${studyPath(uid)}/slices/${index}/image`, { window });

/** @param {string} uid @param {number} index */
export const heatmapUrl = (uid, index) => withToken(`${studyPath(uid)}/slices/${index}/heatmap`);

export const eventsUrl = () => withToken('/api/events');
