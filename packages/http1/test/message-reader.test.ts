// MessageReader's deadline interval over a real socket pair: the tick step follows the deadline armed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { Stream, type RequestHeader } from '@sluice/core';
import { MessageReader } from '../src/message-reader.js';

interface Pair {
  server: Server;
  client: Socket;
  accepted: Socket;
  reader: MessageReader<RequestHeader>;
}

/** A reader on the accepted side of a loopback connection; `client` writes to it. */
async function pair(): Promise<Pair> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [socket] = await accepted;
  return { server, client, accepted: socket, reader: new MessageReader<RequestHeader>(new Stream(socket), 'request') };
}

function close({ server, client, accepted }: Pair): Promise<void> {
  client.destroy();
  accepted.destroy();
  return new Promise((r) => server.close(() => r()));
}

/** Polls until `check` holds; throws `what` after 5 s (a bound on hangs, not a speed assertion). */
async function until(check: () => boolean, what: () => string): Promise<void> {
  for (const end = Date.now() + 5000; !check(); await new Promise((r) => setTimeout(r, 5))) {
    if (Date.now() > end) throw new Error(what());
  }
}

const deadlines = suite('MessageReader deadline ticks');

deadlines('a long deadline after a short one widens the tick step to a quarter of it', async () => {
  const p = await pair();
  try {
    const short = await p.reader.readHead(40).then(
      () => null,
      (e: { type?: string }) => e.type,
    );
    assert.is(short, 'ReadTimedout');
    assert.is(p.reader.deadlineStepMs, 10, 'the short deadline ticked every 10 ms');
    // Armed while the short deadline's interval still runs, as a keep-alive wait after a short body read.
    const head = p.reader.readHead(60_000);
    await until(
      () => p.reader.deadlineStepMs === 15_000,
      () => `the 60 s deadline still ticks every ${p.reader.deadlineStepMs} ms`,
    );
    p.client.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.is((await head)?.uri, '/after', 'the widened deadline still waits for the head');
  } finally {
    await close(p);
  }
});

deadlines('a short deadline after a long one narrows the step at once', async () => {
  const p = await pair();
  try {
    const head = p.reader.readHead(60_000);
    assert.is(p.reader.deadlineStepMs, 15_000);
    p.client.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n');
    assert.is((await head)?.method, 'POST');
    const body = p.reader.readBodyChunk(40);
    assert.is(p.reader.deadlineStepMs, 10);
    const error = await body.then(
      () => null,
      (e: { type?: string; message?: string }) => e,
    );
    assert.is(error?.type, 'ReadTimedout');
    assert.match(String(error?.message), 'no body bytes within 40 ms');
  } finally {
    await close(p);
  }
});

deadlines.run();
