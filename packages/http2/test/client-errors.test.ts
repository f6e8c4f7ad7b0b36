// Our client against a scripted, misbehaving server (raw frames): each violation of RFC 9113 by
// the server gets the right answer from the client, and the request sees a typed error.
import { createServer, type Server } from 'node:net';
import { connect, HttpPeer, RequestHeader } from '@sluice/core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode as E, FrameFlag as F, FrameType as T, HpackEncoder, Http2ClientSession, type Http2Error } from '../src/index.js';
import { frame, RawClient, setting, u32 } from './helpers/raw-client.js';

let server: Server;
let port = 0;
let nextPeer: (peer: RawClient) => void = () => {};
const accepted = (): Promise<RawClient> => new Promise((resolve) => (nextPeer = resolve));

const clientSide = suite('client against a misbehaving server');
clientSide.before(async () => {
  server = createServer((socket) => nextPeer(RawClient.accept(socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
clientSide.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Connects our client; the scripted server sends its SETTINGS (plus `settings`) and ACKs ours. */
async function pair(options = {}, settings: Buffer[] = []): Promise<{ client: Http2ClientSession; peer: RawClient; encoder: HpackEncoder }> {
  const peerPromise = accepted();
  const client = new Http2ClientSession(await connect(new HttpPeer(`127.0.0.1:${port}`)), options);
  const peer = await peerPromise;
  peer.send(frame(T.SETTINGS, 0, 0, Buffer.concat(settings)), frame(T.SETTINGS, F.ACK, 0));
  return { client, peer, encoder: new HpackEncoder() };
}

const get = (client: Http2ClientSession, path = '/'): ReturnType<Http2ClientSession['sendRequest']> =>
  client.sendRequest(RequestHeader.build('GET', path).insertHeader('Host', 'test'), { endStream: true });

async function rejects(promise: Promise<unknown>, code: string, errorCode: number): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.is((error as Http2Error).code, code, (error as Error).message);
    assert.is((error as Http2Error).errorCode, errorCode);
    return;
  }
  assert.unreachable('expected a rejection');
}

clientSide('a response with an uppercase field name: RST_STREAM PROTOCOL_ERROR, the request fails', async () => {
  const { client, peer, encoder } = await pair();
  const stream = get(client);
  peer.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, encoder.encode([':status', '200', 'X-Bad', 'yes'])));
  await rejects(stream.readResponseHeader(), 'ERR_H2_MALFORMED_MESSAGE', E.PROTOCOL_ERROR);
  assert.is(await peer.streamError(1, E.PROTOCOL_ERROR), 'rst');
  client.connection.close();
  peer.close();
});

clientSide('a response without :status, or with request pseudo-headers: RST_STREAM PROTOCOL_ERROR', async () => {
  const { client, peer, encoder } = await pair();
  const a = get(client, '/a');
  const b = get(client, '/b');
  peer.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, encoder.encode(['content-type', 'x'])));
  peer.send(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 3, encoder.encode([':status', '200', ':path', '/'])));
  await rejects(a.readResponseHeader(), 'ERR_H2_MALFORMED_MESSAGE', E.PROTOCOL_ERROR);
  await rejects(b.readResponseHeader(), 'ERR_H2_MALFORMED_MESSAGE', E.PROTOCOL_ERROR);
  client.connection.close();
  peer.close();
});

clientSide('content-length against fewer DATA octets: RST_STREAM PROTOCOL_ERROR, the body read fails', async () => {
  const { client, peer, encoder } = await pair();
  const stream = get(client);
  peer.send(frame(T.HEADERS, F.END_HEADERS, 1, encoder.encode([':status', '200', 'content-length', '10'])), frame(T.DATA, F.END_STREAM, 1, Buffer.from('abc')));
  await stream.readResponseHeader();
  await rejects(stream.readBody(), 'ERR_H2_CONTENT_LENGTH', E.PROTOCOL_ERROR);
  client.connection.close();
  peer.close();
});

clientSide('PUSH_PROMISE (push is disabled): GOAWAY PROTOCOL_ERROR, open requests fail', async () => {
  const { client, peer, encoder } = await pair();
  const stream = get(client);
  peer.send(frame(T.PUSH_PROMISE, F.END_HEADERS, 1, Buffer.concat([u32(2), encoder.encode([':method', 'GET', ':path', '/p', ':scheme', 'http', ':authority', 'x'])])));
  await peer.connectionError(E.PROTOCOL_ERROR);
  await rejects(stream.readResponseHeader(), 'ERR_H2_PUSH_PROMISE', E.PROTOCOL_ERROR);
  peer.close();
});

clientSide('a server that sends SETTINGS_ENABLE_PUSH = 1: GOAWAY PROTOCOL_ERROR', async () => {
  const { peer } = await pair({}, [setting(2, 1)]);
  await peer.connectionError(E.PROTOCOL_ERROR);
  peer.close();
});

clientSide('DATA past our stream window: RST_STREAM FLOW_CONTROL_ERROR', async () => {
  const { client, peer, encoder } = await pair({ initialWindowSize: 1000 });
  // Wait for our SETTINGS to reach the scripted server, then ACK semantics apply to the new window.
  const stream = get(client);
  await new Promise((r) => setTimeout(r, 30));
  peer.send(frame(T.HEADERS, F.END_HEADERS, 1, encoder.encode([':status', '200'])), frame(T.DATA, 0, 1, Buffer.alloc(1001)));
  await stream.readResponseHeader();
  await rejects(stream.readBody(), 'ERR_H2_FLOW_CONTROL', E.FLOW_CONTROL_ERROR);
  client.connection.close();
  peer.close();
});

clientSide('GOAWAY with a lower last stream id: later streams fail with a retryable error, earlier ones complete', async () => {
  const { client, peer, encoder } = await pair();
  const first = get(client, '/1');
  const second = get(client, '/2');
  peer.send(frame(T.GOAWAY, 0, 0, u32(1, E.NO_ERROR)));
  await rejects(second.readResponseHeader(), 'ERR_H2_GOAWAY', E.REFUSED_STREAM);
  assert.is(client.isOpen, false);
  assert.is(client.availableStreams, 0);
  peer.send(frame(T.HEADERS, F.END_HEADERS, 1, encoder.encode([':status', '200'])), frame(T.DATA, F.END_STREAM, 1, Buffer.from('done')));
  assert.is((await first.readResponseHeader()).status, 200);
  assert.is((await first.readBody()).toString(), 'done');
  await client.closed; // idle after GOAWAY: the client closes
  peer.close();
});

clientSide('content-length on a HEAD response or a 304 describes a body that is not sent: accepted', async () => {
  const { client, peer, encoder } = await pair();
  const head = client.sendRequest(RequestHeader.build('HEAD', '/h').insertHeader('Host', 'test'), { endStream: true });
  const cached = get(client, '/c');
  peer.send(
    frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, encoder.encode([':status', '200', 'content-length', '1234'])),
    frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 3, encoder.encode([':status', '304', 'content-length', '99'])),
  );
  assert.is((await head.readResponseHeader()).header('content-length'), '1234');
  assert.is((await head.readBody()).length, 0);
  assert.is((await cached.readResponseHeader()).status, 304);
  assert.is((await cached.readBody()).length, 0);
  client.connection.close();
  peer.close();
});

clientSide('1xx informational responses are kept apart from the final response', async () => {
  const { client, peer, encoder } = await pair();
  const stream = get(client);
  peer.send(
    frame(T.HEADERS, F.END_HEADERS, 1, encoder.encode([':status', '103', 'link', '</a.css>; rel=preload'])),
    frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, encoder.encode([':status', '204'])),
  );
  const response = await stream.readResponseHeader();
  assert.is(response.status, 204);
  assert.equal(stream.informational, [[':status', '103', 'link', '</a.css>; rel=preload']]);
  client.connection.close();
  peer.close();
});

clientSide('readNextResponseHeader hands out each 1xx as it arrives, before the final response exists', async () => {
  const { client, peer, encoder } = await pair();
  const stream = get(client);
  try {
    const first = stream.readNextResponseHeader();
    peer.send(frame(T.HEADERS, F.END_HEADERS, 1, encoder.encode([':status', '103', 'link', '</a.css>; rel=preload'])));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the 103 was not handed out within 3 s')), 3000)));
    const hint = await Promise.race([first, bound]).finally(() => clearTimeout(timer));
    assert.is(hint.status, 103);
    assert.is(hint.header('link'), '</a.css>; rel=preload');
    peer.send(
      frame(T.HEADERS, F.END_HEADERS, 1, encoder.encode([':status', '103', 'link', '</b.js>; rel=preload'])),
      frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, encoder.encode([':status', '204'])),
    );
    // Both arrived before this read: the second 103 still comes first, then the final head.
    await new Promise((r) => setTimeout(r, 50));
    assert.is((await stream.readNextResponseHeader()).header('link'), '</b.js>; rel=preload');
    assert.is((await stream.readNextResponseHeader()).status, 204);
    assert.is((await stream.readNextResponseHeader()).status, 204);
  } finally {
    client.connection.close();
    peer.close();
  }
});

clientSide('our client never exceeds the server MAX_CONCURRENT_STREAMS', async () => {
  const { client, peer } = await pair({}, [setting(3, 2)]);
  await client.connection.ready;
  get(client, '/1');
  get(client, '/2');
  assert.is(client.availableStreams, 0);
  assert.throws(() => get(client, '/3'), (e: Http2Error) => e.code === 'ERR_H2_NO_STREAMS');
  client.connection.close();
  peer.close();
});

clientSide.run();
