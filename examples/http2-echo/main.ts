// An h2c (HTTP/2 with prior knowledge) echo server on @sluice/http2: every stream is answered with
// JSON of what the session parsed (method, path, authority, scheme, fields in order, body length
// and SHA-256, trailers). Run: PORT=8083 node --import tsx examples/http2-echo/main.ts, then
//   curl -s --http2-prior-knowledge localhost:8083/hello -d 'some body' | jq
//   nghttp -v http://localhost:8083/hello
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { ResponseHeader, Stream } from '@sluice/core';
import { serveHttp2, type Http2ServerStream } from '@sluice/http2';

/** Answers one stream with the JSON description of its request. */
export async function echo(stream: Http2ServerStream): Promise<void> {
  const hash = createHash('sha256');
  let length = 0;
  for (let chunk = await stream.readBodyChunk(); chunk !== null; chunk = await stream.readBodyChunk()) {
    hash.update(chunk);
    length += chunk.length;
  }
  const request = stream.request;
  const description = {
    streamId: stream.id,
    method: request.method,
    path: request.uri,
    authority: stream.authority ?? null,
    scheme: stream.scheme ?? null,
    version: request.version,
    headers: request.headers.entries(),
    bodyLength: length,
    bodySha256: hash.digest('hex'),
    trailers: stream.requestTrailers?.entries() ?? [],
  };
  const response = ResponseHeader.build(200, '2');
  response.insertHeader('content-type', 'application/json');
  await stream.respond(response, request.method === 'HEAD' ? undefined : JSON.stringify(description) + '\n');
}

/** Starts the echo server on `port` (0 for any) on 127.0.0.1 unless `host` says otherwise. */
export function startEchoServer(port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    void serveHttp2(new Stream(socket), echo);
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8083);
  const server = await startEchoServer(port, process.env.HOST ?? '127.0.0.1');
  console.log(`http2-echo listening on ${JSON.stringify(server.address())}`);
}
