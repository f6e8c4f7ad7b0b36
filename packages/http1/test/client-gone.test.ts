// ServerSession.watchClientGone: a server busy with a request (no read waiting) learns at once that
// its client closed or broke the connection, also when the request was read from bytes sniffed
// before the session existed (the socket then was left paused).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Stream } from '@sluice/core';
import { ServerSession } from '../src/index.js';

/** `p`, or a rejection after 3 s (a bound on a hang, not a speed assertion). */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not within 3 s`)), 3000)));
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

/** A server whose connections are each handed to the current test, and a client connected to it. */
async function pair(server: Server, port: number): Promise<{ client: Socket; stream: Stream }> {
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect(port, '127.0.0.1');
  client.on('error', () => {});
  const socket = await accepted;
  socket.on('error', () => {});
  return { client, stream: new Stream(socket) };
}

const gone = suite<{ server: Server; port: number }>('ServerSession.watchClientGone');
gone.before(async (ctx) => {
  ctx.server = createServer();
  await new Promise<void>((r) => ctx.server.listen(0, '127.0.0.1', r));
  ctx.port = (ctx.server.address() as AddressInfo).port;
});
gone.after(async (ctx) => new Promise<void>((r) => ctx.server.close(() => r())));

for (const how of ['end', 'reset'] as const) {
  gone(`the client ${how === 'end' ? 'closes (FIN)' : 'resets (RST)'} while the request is being handled`, async ({ server, port }) => {
    const { client, stream } = await pair(server, port);
    try {
      const session = new ServerSession(stream);
      client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.is((await session.readRequest())?.uri, '/');
      const told = new Promise<void>((resolve) => session.watchClientGone({ peerEnded: resolve }));
      if (how === 'end') client.end();
      else client.resetAndDestroy();
      await within(told, 'peerEnded');
    } finally {
      stream.destroy();
      client.destroy();
    }
  });
}

gone('a request read from sniffed bytes (socket left paused) still notices the client leaving', async ({ server, port }) => {
  const { client, stream } = await pair(server, port);
  try {
    client.write('GET /sniffed HTTP/1.1\r\nHost: x\r\n\r\n');
    // As the proxy's h2c sniff does: read the first bytes through Stream, put them back.
    const first = await stream.read();
    assert.ok(first !== null);
    stream.unread(first);
    const session = new ServerSession(stream);
    assert.is((await session.readRequest())?.uri, '/sniffed');
    const told = new Promise<void>((resolve) => session.watchClientGone({ peerEnded: resolve }));
    client.end();
    await within(told, 'peerEnded');
  } finally {
    stream.destroy();
    client.destroy();
  }
});

gone('a client already gone is reported at once; null stops watching', async ({ server, port }) => {
  const { client, stream } = await pair(server, port);
  const session = new ServerSession(stream);
  client.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await session.readRequest();
  // Let the FIN arrive while nobody watches.
  await within(new Promise<void>((resolve) => (stream.socket.readableEnded ? resolve() : stream.socket.once('end', () => resolve()))), 'the FIN');
  let calls = 0;
  session.watchClientGone({ peerEnded: () => calls++ });
  assert.is(calls, 1);
  const { client: other, stream: otherStream } = await pair(server, port);
  const watched = new ServerSession(otherStream);
  other.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await watched.readRequest();
  let late = 0;
  watched.watchClientGone({ peerEnded: () => late++ });
  watched.watchClientGone(null);
  other.end();
  await within(new Promise<void>((resolve) => otherStream.socket.once('close', () => resolve())), 'the close');
  assert.is(late, 0);
  stream.destroy();
});

gone.run();
