/**
 * The HTTP routes the token protects, the spellings of their paths a router may take for the same
 * route while a prefix check does not (percent-encodings, doubled or dotted segments, case, `;`
 * parameters, absolute-form targets...), and the credentials presented with them.
 */

/** A protected resource: what is asked and how. `:study` is filled with a stored study's UID. */
export const ROUTE_TARGETS = {
  worklist: { method: 'GET', path: '/api/worklist' },
  study: { method: 'GET', path: '/api/studies/:study' },
  sliceImage: { method: 'GET', path: '/api/studies/:study/slices/0/image' },
  heatmap: { method: 'GET', path: '/api/studies/:study/slices/0/heatmap' },
  events: { method: 'GET', path: '/api/events' },
  upload: { method: 'POST', path: '/api/upload' },
  stow: { method: 'POST', path: '/dicomweb/studies' },
  review: { method: 'POST', path: '/api/studies/:study/review' },
} as const;
export type RouteTarget = keyof typeof ROUTE_TARGETS;

/** Each spelling turns a path such as `/api/worklist` into another request target for the same resource. */
export const PATH_SPELLINGS: Record<string, (path: string, port: number) => string> = {
  plain: (path) => path,
  'encoded-first-letter': (path) => `/%${hex(path[1])}${path.slice(2)}`,
  'encoded-first-letter-upper': (path) => `/%${hex(path[1]).toUpperCase()}${path.slice(2)}`,
  'encoded-prefix': (path) => `/${[...firstSegment(path)].map((c) => `%${hex(c)}`).join('')}${path.slice(1 + firstSegment(path).length)}`,
  'encoded-second-segment': (path) => path.replace(/^(\/[^/]+\/)(.)/, (_, head: string, c: string) => `${head}%${hex(c)}`),
  'double-encoded': (path) => `/%25${hex(path[1])}${path.slice(2)}`,
  'fullwidth-letter': (path) => `/%EF%BD%${(0x80 + path.charCodeAt(1) - 0x60).toString(16).toUpperCase()}${path.slice(2)}`,
  'overlong-utf8': (path) => `/%C1%${(0x80 + (path.charCodeAt(1) & 0x3f)).toString(16).toUpperCase()}${path.slice(2)}`,
  'leading-double-slash': (path) => `/${path}`,
  'inner-double-slash': (path) => path.replace(/^(\/[^/]+)\//, '$1//'),
  'dot-segment': (path) => `/.${path}`,
  'dot-dot-segment': (path) => `/x/..${path}`,
  'encoded-dot-segment': (path) => `/%2e${path}`,
  uppercase: (path) => `/${firstSegment(path).toUpperCase()}${path.slice(1 + firstSegment(path).length)}`,
  'trailing-slash': (path) => `${path}/`,
  'encoded-slash': (path) => path.replace(/^(\/[^/]+)\//, '$1%2F'),
  'encoded-slash-lower': (path) => path.replace(/^(\/[^/]+)\//, '$1%2f'),
  'semicolon-parameter': (path) => path.replace(/^(\/[^/]+)\//, '$1;x=1/'),
  'trailing-semicolon': (path) => `${path};jsessionid=1`,
  'query-junk': (path) => `${path}?x=1&token`,
  fragment: (path) => `${path}#x`,
  'encoded-nul': (path) => `${path}%00`,
  'encoded-space': (path) => `${path}%20`,
  backslash: (path) => path.replace(/^(\/[^/]+)\//, '$1\\'),
  'absolute-form': (path, port) => `http://127.0.0.1:${port}${path}`,
  'absolute-form-encoded': (path, port) => `http://127.0.0.1:${port}/%${hex(path[1])}${path.slice(2)}`,
};

/** What is presented as the credential; `authorised` ones carry the right token (controls, never bypasses). */
export const CREDENTIALS: Record<string, { authorised: boolean; header?: (token: string) => string; query?: (token: string) => string }> = {
  none: { authorised: false },
  'wrong-bearer': { authorised: false, header: () => 'Bearer wrong-token' },
  'empty-bearer': { authorised: false, header: () => 'Bearer ' },
  'bearer-only': { authorised: false, header: () => 'Bearer' },
  basic: { authorised: false, header: (token) => `Basic ${Buffer.from(`fuzz:${token}`).toString('base64')}` },
  'token-prefix': { authorised: false, header: (token) => `Bearer ${token.slice(0, -1)}` },
  'token-suffix': { authorised: false, header: (token) => `Bearer ${token}x` },
  'wrong-query': { authorised: false, query: () => 'wrong-token' },
  'empty-query': { authorised: false, query: () => '' },
  right: { authorised: true, header: (token) => `Bearer ${token}` },
  'right-lowercase-scheme': { authorised: true, header: (token) => `bearer ${token}` },
  'right-query': { authorised: true, query: (token) => token },
};

function firstSegment(path: string): string {
  return path.slice(1).split('/')[0];
}

function hex(char: string): string {
  return char.charCodeAt(0).toString(16).padStart(2, '0');
}
