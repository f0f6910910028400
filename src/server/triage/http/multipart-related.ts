/**
 * A parser for multipart bodies (RFC 2046 5.1), as STOW-RS sends them (multipart/related, RFC 2387;
 * PS3.18 8.6.1.2): the whole body in memory, split on its boundary into parts with their headers.
 * A body that does not end with the close delimiter is refused as truncated, never half-used.
 */

export interface MultipartPart {
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

/** A multipart body or media type that cannot be parsed; the message says why. */
export class MultipartError extends Error {
  override name = 'MultipartError';
}

/** A media type and its parameters (RFC 9110 8.3.1), names lower-cased, quoted values unquoted. */
export function parseMediaType(header: string): { type: string; parameters: Record<string, string> } {
  const [type, ...segments] = splitParameters(header);
  const parameters: Record<string, string> = {};
  for (const segment of segments) {
    const equals = segment.indexOf('=');
    if (equals <= 0) continue;
    const value = segment.slice(equals + 1).trim();
    parameters[segment.slice(0, equals).trim().toLowerCase()] = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
  }
  return { type: (type ?? '').trim().toLowerCase(), parameters };
}

/** Splits parameters on ';' outside quoted strings. */
function splitParameters(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && quoted) {
      current += char + (text[++i] ?? '');
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === ';' && !quoted) {
      out.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current.trim()) out.push(current);
  return out;
}

/**
 * The parts of `body`, a multipart body with `boundary`.
 * @throws {@link MultipartError} when the boundary is missing, a part has malformed headers, or the close delimiter never comes.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  if (!boundary || boundary.length > 70) throw new MultipartError('the boundary parameter is missing or longer than 70 characters (RFC 2046 5.1.1)');
  const delimiter = Buffer.from(`--${boundary}`);
  const separator = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter may open the body (no preamble) or follow a preamble and CRLF.
  const opensWithDelimiter = body.subarray(0, delimiter.length).equals(delimiter);
  const first = opensWithDelimiter ? 0 : body.indexOf(separator);
  if (first < 0) throw new MultipartError('the body holds no part delimited by the boundary');
  let position = first + (opensWithDelimiter ? delimiter.length : separator.length);
  const parts: MultipartPart[] = [];
  for (;;) {
    if (body[position] === 0x2d && body[position + 1] === 0x2d) return parts; // close delimiter "--boundary--"
    const lineEnd = body.indexOf('\r\n', position);
    if (lineEnd < 0) throw new MultipartError('the body ends inside a delimiter line (truncated?)');
    const start = lineEnd + 2;
    const end = body.indexOf(separator, start);
    if (end < 0) throw new MultipartError(`part ${parts.length + 1} has no closing boundary: the body is truncated`);
    parts.push(partOf(body.subarray(start, end), parts.length + 1));
    position = end + separator.length;
  }
}

function partOf(raw: Buffer, index: number): MultipartPart {
  // A part with no headers starts with the blank line itself.
  const headerEnd = raw.subarray(0, 2).toString('latin1') === '\r\n' ? 0 : raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) throw new MultipartError(`part ${index} has no blank line after its headers`);
  const headers: Record<string, string> = {};
  for (const line of raw.subarray(0, headerEnd).toString('latin1').split('\r\n')) {
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError(`part ${index} has a malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: raw.subarray(headerEnd === 0 ? 2 : headerEnd + 4) };
}
