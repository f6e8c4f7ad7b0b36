// The server under test: h2c on 127.0.0.1, port 0, answering every stream with JSON of its request.
import { createServer, type Server } from 'node:net';
import { ResponseHeader, Stream } from '@sluice/core';
import { serveHttp2, type ServeHttp2Options as Http2ServerOptions, type Http2ServerStream, type Http2Connection } from '../../src/index.js';

export async function echo(stream: Http2ServerStream): Promise<void> {
  let length = 0;
  for (let chunk = await stream.readBodyChunk(); chunk !== null; chunk = await stream.readBodyChunk()) length += chunk.length;
  const body = JSON.stringify({ method: stream.request.method, path: stream.request.uri, authority: stream.authority, bodyLength: length, trailers: stream.trailers });
  const response = ResponseHeader.build(200, '2');
  response.insertHeader('content-type', 'application/json');
  if (stream.request.method === 'HEAD') {
    stream.writeResponseHeader(response, true);
    return;
  }
  await stream.respond(response, body);
}

export interface TestServer {
  server: Server;
  port: number;
  sessions: Set<Promise<void>>;
  close(): Promise<void>;
}

/** Starts an h2c server on port 0; `handler` defaults to {@link echo}. */
export async function startServer(options: Http2ServerOptions = {}, handler: (stream: Http2ServerStream) => Promise<void> | void = echo): Promise<TestServer> {
  const sessions = new Set<Promise<void>>();
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const done = serveHttp2(new Stream(socket), handler, options);
    sessions.add(done);
    void done.then(() => sessions.delete(done));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    server,
    port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export type { Http2Connection };
