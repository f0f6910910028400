/**
 * A local HTTP server (127.0.0.1, a free port) serving what image search results contain: good images,
 * copies of them under other URLs, broken files, lies, errors, silence and oversized bodies.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

/** Seeded noise, so a JPEG has enough scan data that cutting it in half breaks the picture, not the header. */
function noise(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  let state = 12345;
  for (let i = 0; i < data.length; i++) data[i] = (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  return data;
}

const solid = (r: number, g: number, b: number): Promise<Buffer> =>
  sharp({ create: { width: 32, height: 24, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();

export const IMAGES = {
  red: await solid(200, 30, 40),
  green: await solid(30, 200, 40),
  blue: await solid(30, 40, 200),
  noise: await sharp(noise(64, 64), { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer(),
};

/** The body size limit the tests collect with; the oversized routes exceed it. */
export const TEST_MAX_BYTES = 100_000;
const OVERSIZED = Buffer.concat([IMAGES.red, Buffer.alloc(2 * TEST_MAX_BYTES)]);

export interface ImageServer {
  /** `http://127.0.0.1:PORT` */
  base: string;
  /** Requests received per path. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

export async function startImageServer(): Promise<ImageServer> {
  const requests = new Map<string, number>();
  const send = (res: ServerResponse, type: string, body: Buffer): void => {
    res.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
  };
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const count = (requests.get(path) ?? 0) + 1;
    requests.set(path, count);
    switch (path) {
      case '/red.png':
      case '/red-copy.png':
        return send(res, 'image/png', IMAGES.red);
      case '/green.png':
        return send(res, 'image/png', IMAGES.green);
      case '/noise.jpg':
      case '/noise-mirror.jpg':
        return send(res, 'image/jpeg', IMAGES.noise);
      case '/truncated.jpg':
        return send(res, 'image/jpeg', IMAGES.noise.subarray(0, IMAGES.noise.length >> 1));
      case '/page.jpg':
        return send(res, 'image/jpeg', Buffer.from('<!DOCTYPE html><html><body>Sign in to see this image</body></html>'));
      case '/flaky.png':
        if (count === 1) return res.writeHead(500).end('busy');
        return send(res, 'image/png', IMAGES.blue);
      case '/silent.jpg':
        // Never answers: a download of it times out however fast or slow the machine is.
        return;
      case '/huge.png':
        return send(res, 'image/png', OVERSIZED);
      case '/huge-stream.png':
        // No Content-Length: the limit has to be enforced while reading.
        res.writeHead(200, { 'content-type': 'image/png' });
        for (let offset = 0; offset < OVERSIZED.length; offset += 16_384) res.write(OVERSIZED.subarray(offset, offset + 16_384));
        return res.end();
      default:
        return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
