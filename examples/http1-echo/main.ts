// An HTTP/1.1 echo server on @sluice/http1's sessions: every request is answered with JSON of what the
// parser made of it (method, target, version, fields in order and case, body length and SHA-256,
// trailers). Run: PORT=8081 node --import tsx examples/http1-echo/main.ts, then
//   curl -s localhost:8081/hello -d 'some body' | jq
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { ResponseHeader, Stream } from '@sluice/core';
import { serveHttp1, type ServerSession } from '@sluice/http1';
import type { RequestHeader } from '@sluice/core';

/** Answers one request with the JSON description of it. */
export async function echo(session: ServerSession, request: RequestHeader): Promise<void> {
  const hash = createHash('sha256');
  let length = 0;
  for (let chunk = await session.readBodyChunk(); chunk !== null; chunk = await session.readBodyChunk()) {
    hash.update(chunk);
    length += chunk.length;
  }
  const description = {
    method: request.method,
    target: request.uri,
    version: request.version,
    headers: request.headers.entries(),
    bodyLength: length,
    bodySha256: hash.digest('hex'),
    trailers: session.trailers?.entries() ?? [],
  };
  const res = ResponseHeader.build(200);
  res.insertHeader('Content-Type', 'application/json');
  await session.respond(res, JSON.stringify(description) + '\n');
}

/** Starts the echo server on `port` (0 for any) on 127.0.0.1 unless `host` says otherwise. */
export function startEchoServer(port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    void serveHttp1(new Stream(socket), echo);
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8081);
  const server = await startEchoServer(port, process.env.HOST ?? '127.0.0.1');
  console.log(`http1-echo listening on ${JSON.stringify(server.address())}`);
}
