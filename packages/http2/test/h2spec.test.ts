// Every server case of h2spec (listed in ../shared/testdata/h2spec-server-cases.json), sent over
// the wire to our server by a raw-frame client. Each case checks the real outcome: a response, a
// PING ACK proving the connection is healthy, RST_STREAM or GOAWAY with the required code, or the
// connection's close. Stricter than h2spec where h2spec accepts any close for an error.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode as E, FrameFlag as F, FrameType as T } from '../src/index.js';
import { huffmanEncode as huffmanEncodeInto, huffmanEncodedLength } from '../src/hpack/index.js';

function huffmanEncode(text: string): Buffer {
  const out = Buffer.alloc(huffmanEncodedLength(text));
  huffmanEncodeInto(text, out, 0);
  return out;
}
import { frame, RawClient, setting, u32, describe } from './helpers/raw-client.js';
import { startServer, type TestServer } from './helpers/echo-server.js';

const dataDir = process.env.SLUICE_TESTDATA ?? join(import.meta.dirname, '../../../../shared/testdata');
const corpusPath = join(dataDir, 'h2spec-server-cases.json');

type Case = (c: RawClient) => Promise<void>;

// HPACK by hand, for the representation cases.
function int(value: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  value -= max;
  while (value >= 128) {
    out.push((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out.push(value);
  return out;
}
function str(text: string, huffman = false): number[] {
  const bytes = huffman ? [...huffmanEncode(text)] : [...Buffer.from(text, 'latin1')];
  return [...int(bytes.length, 7, huffman ? 0x80 : 0), ...bytes];
}
/** :method GET, :scheme http, :path / indexed; :authority literal without indexing. */
const BASE = [0x82, 0x86, 0x84, 0x01, ...str('127.0.0.1')];
const UA = 58; // static index of user-agent
const raw = (...bytes: number[]): Buffer => Buffer.from(bytes);

const requestOK = async (c: RawClient, id = 1): Promise<void> => {
  const r = await c.response(id);
  assert.is(r.status, 200);
};

/** A request with the given representation bytes after BASE, expected to be answered. */
const hpackAccepted = (...extra: number[]): Case => async (c) => {
  c.send(c.headers(1, raw(...BASE, ...extra), true));
  await requestOK(c);
};

/** A request with a broken field block: a connection error COMPRESSION_ERROR. */
const hpackRejected = (block: number[]): Case => async (c) => {
  c.send(c.headers(1, raw(...block), true));
  await c.connectionError(E.COMPRESSION_ERROR);
};

/** A request built from `fields` (no defaults) must be a stream error PROTOCOL_ERROR. */
const malformed = (fields: string[]): Case => async (c) => {
  c.send(c.headers(1, c.block([], fields), true));
  await c.streamError(1, E.PROTOCOL_ERROR);
  await c.alive();
};
const REQ = (method = 'GET', scheme = 'http', path = '/'): string[] => [':method', method, ':scheme', scheme, ':path', path, ':authority', '127.0.0.1'];

/** An open stream 1 (request without END_STREAM) and then `after`. */
const onOpenStream = (after: (c: RawClient) => Buffer[]): ((c: RawClient) => void) => (c) => {
  c.send(c.headers(1, c.block([':method', 'POST'].length ? [] : [], REQ('POST')), false), ...after(c));
};

const connectionError = (send: (c: RawClient) => Buffer[], ...codes: number[]): Case => async (c) => {
  c.send(...send(c));
  await c.connectionError(...codes);
};

const streamError = (send: (c: RawClient) => Buffer[], streamId: number, ...codes: number[]): Case => async (c) => {
  c.send(...send(c));
  await c.streamError(streamId, ...codes);
};

const stillAlive = (send: (c: RawClient) => Buffer[]): Case => async (c) => {
  c.send(...send(c));
  await c.alive();
};

/** HEADERS of a POST without END_STREAM on stream 1. */
const openPost = (c: RawClient, id = 1, extra: string[] = []): Buffer => c.headers(id, c.block(extra, [...REQ('POST'), ...extra]), false);
const data = (id: number, payload: string | Buffer, end: boolean, flags = 0): Buffer => frame(T.DATA, (end ? F.END_STREAM : 0) | flags, id, typeof payload === 'string' ? Buffer.from(payload) : payload);
const ping = (payload = 'h2spec!!', flags = 0, id = 0): Buffer => frame(T.PING, flags, id, Buffer.from(payload));
const priority = (id: number, dependsOn: number, weight = 15, exclusive = false): Buffer => {
  const p = Buffer.alloc(5);
  p.writeUInt32BE((dependsOn | (exclusive ? 0x80000000 : 0)) >>> 0, 0);
  p[4] = weight;
  return frame(T.PRIORITY, 0, id, p);
};
const windowUpdate = (id: number, increment: number): Buffer => frame(T.WINDOW_UPDATE, 0, id, u32(increment));
const rst = (id: number, code: number): Buffer => frame(T.RST_STREAM, 0, id, u32(code));
const settings = (...entries: Buffer[]): Buffer => frame(T.SETTINGS, 0, 0, Buffer.concat(entries));

/** Waits until the server has ended stream `id` (response complete). */
const finished = async (c: RawClient, id = 1): Promise<void> => {
  await c.response(id);
};

/** Splits a block across HEADERS and `n` CONTINUATION frames. */
function split(c: RawClient, id: number, block: Buffer, parts: number, endStream = true): Buffer[] {
  const size = Math.ceil(block.length / parts);
  const out: Buffer[] = [];
  for (let i = 0; i < parts; i++) {
    const piece = block.subarray(i * size, (i + 1) * size);
    const last = i === parts - 1;
    if (i === 0) out.push(frame(T.HEADERS, (endStream ? F.END_STREAM : 0) | (last ? F.END_HEADERS : 0), id, piece));
    else out.push(frame(T.CONTINUATION, last ? F.END_HEADERS : 0, id, piece));
  }
  return out;
}

/** Reads DATA frames on stream 1 until `total` octets came; returns their sizes. Fails on END_STREAM early or errors. */
async function dataFrames(c: RawClient, total: number): Promise<number[]> {
  const sizes: number[] = [];
  let got = 0;
  while (got < total) {
    const event = await c.next();
    if (typeof event === 'string' || event.type === T.GOAWAY || event.type === T.RST_STREAM) throw new Error(`expected DATA, got ${describe(event)}`);
    if (event.type === T.DATA && event.streamId === 1) {
      sizes.push(event.payload.length);
      got += event.payload.length;
    }
  }
  return sizes;
}

/** Asserts no DATA arrives on stream 1 for `ms`. */
async function noData(c: RawClient, ms: number): Promise<void> {
  for (;;) {
    const event = await c.next(ms);
    if (event === 'timeout') return;
    if (typeof event === 'string') throw new Error(`unexpected ${event}`);
    if (event.type === T.DATA && event.payload.length > 0) throw new Error(`DATA past the window: ${describe(event)}`);
    if (event.type === T.GOAWAY || event.type === T.RST_STREAM) throw new Error(`unexpected ${describe(event)}`);
  }
}

const cases: Record<string, Case> = {
  // ---- generic -------------------------------------------------------------------------------
  'generic/1/1': async (c) => c.alive(),
  'generic/2/1': async (c) => {
    c.send(priority(1, 0), c.get(1));
    await requestOK(c);
  },
  'generic/2/2': async (c) => {
    c.send(c.get(1), windowUpdate(1, 100));
    await requestOK(c);
  },
  'generic/2/3': async (c) => {
    c.send(c.get(1), priority(1, 0));
    await requestOK(c);
  },
  'generic/2/4': stillAlive((c) => [c.get(1), rst(1, E.CANCEL)]),
  'generic/2/5': async (c) => {
    c.send(c.get(1));
    await finished(c);
    c.send(priority(1, 0));
    await c.alive();
  },
  'generic/3.1/1': async (c) => {
    c.send(openPost(c), data(1, 'test', true));
    assert.match((await c.response(1)).body.toString(), '"bodyLength":4');
  },
  'generic/3.1/2': async (c) => {
    c.send(openPost(c), data(1, 'te', false), data(1, 'st', true));
    assert.match((await c.response(1)).body.toString(), '"bodyLength":4');
  },
  'generic/3.1/3': async (c) => {
    c.send(openPost(c), frame(T.DATA, F.END_STREAM | F.PADDED, 1, Buffer.concat([raw(8), Buffer.from('test'), Buffer.alloc(8)])));
    assert.match((await c.response(1)).body.toString(), '"bodyLength":4');
  },
  'generic/3.2/1': async (c) => {
    c.send(c.get(1));
    await requestOK(c);
  },
  'generic/3.2/2': async (c) => {
    const block = c.block();
    c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PADDED, 1, Buffer.concat([raw(8), block, Buffer.alloc(8)])));
    await requestOK(c);
  },
  'generic/3.2/3': async (c) => {
    const block = c.block();
    c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PRIORITY, 1, Buffer.concat([u32(0), raw(255), block])));
    await requestOK(c);
  },
  'generic/3.3/1': stillAlive(() => [priority(1, 0, 0)]),
  'generic/3.3/2': stillAlive(() => [priority(1, 0, 255)]),
  'generic/3.3/3': stillAlive((c) => [c.headers(1, c.block(), false), priority(3, 1)]),
  'generic/3.3/4': stillAlive((c) => [c.headers(1, c.block(), false), priority(3, 1, 15, true)]),
  'generic/3.3/5': async (c) => {
    c.send(priority(5, 0), c.get(3));
    await requestOK(c, 3);
  },
  'generic/3.4/1': stillAlive((c) => [openPost(c), rst(1, E.CANCEL)]),
  'generic/3.5/1': async (c) => {
    c.send(settings(setting(3, 100)));
    for (;;) {
      const event = await c.next();
      if (typeof event === 'string') throw new Error(event);
      if (event.type === T.SETTINGS && event.flags === F.ACK) return;
    }
  },
  'generic/3.7/1': async (c) => c.alive(),
  'generic/3.8/1': stillAlive(() => [frame(T.GOAWAY, 0, 0, u32(0, E.NO_ERROR))]),
  'generic/3.9/1': stillAlive(() => [windowUpdate(0, 1)]),
  'generic/3.9/2': async (c) => {
    c.send(openPost(c), windowUpdate(1, 1), data(1, 'x', true));
    await requestOK(c);
  },
  'generic/3.10/1': async (c) => {
    c.send(...split(c, 1, c.block(), 2));
    await requestOK(c);
  },
  'generic/3.10/2': async (c) => {
    c.send(...split(c, 1, c.block(['x-a', 'a'.repeat(40), 'x-b', 'b'.repeat(40)]), 5));
    await requestOK(c);
  },
  'generic/4/1': async (c) => {
    c.send(c.get(1));
    assert.match((await c.response(1)).body.toString(), '"method":"GET"');
  },
  'generic/4/2': async (c) => {
    c.send(c.headers(1, c.block([], REQ('HEAD')), true));
    const r = await c.response(1);
    assert.is(r.status, 200);
    assert.is(r.body.length, 0);
  },
  'generic/4/3': async (c) => {
    c.send(openPost(c, 1, ['content-length', '4']), data(1, 'test', true));
    assert.match((await c.response(1)).body.toString(), '"method":"POST","path":"/","authority":"127.0.0.1","bodyLength":4');
  },
  'generic/4/4': async (c) => {
    c.send(openPost(c, 1, ['content-length', '4']), data(1, 'test', false), c.headers(1, c.encoder.encode(['x-trailer', 'yes']), true));
    assert.match((await c.response(1)).body.toString(), '"trailers":["x-trailer","yes"]');
  },
  'generic/5/1': hpackAccepted(),
  'generic/5/2': hpackAccepted(...int(UA, 6, 0x40), ...str('h2spec')),
  'generic/5/3': hpackAccepted(...int(UA, 6, 0x40), ...str('h2spec', true)),
  'generic/5/4': hpackAccepted(0x40, ...str('x-test'), ...str('h2spec')),
  'generic/5/5': hpackAccepted(0x40, ...str('x-test', true), ...str('h2spec', true)),
  'generic/5/6': hpackAccepted(...int(UA, 4, 0x00), ...str('h2spec')),
  'generic/5/7': hpackAccepted(...int(UA, 4, 0x00), ...str('h2spec', true)),
  'generic/5/8': hpackAccepted(0x00, ...str('x-test'), ...str('h2spec')),
  'generic/5/9': hpackAccepted(0x00, ...str('x-test', true), ...str('h2spec', true)),
  'generic/5/10': hpackAccepted(...int(UA, 4, 0x10), ...str('h2spec')),
  'generic/5/11': hpackAccepted(...int(UA, 4, 0x10), ...str('h2spec', true)),
  'generic/5/12': hpackAccepted(0x10, ...str('x-test'), ...str('h2spec')),
  'generic/5/13': hpackAccepted(0x10, ...str('x-test', true), ...str('h2spec', true)),
  'generic/5/14': async (c) => {
    c.send(c.headers(1, raw(...int(100, 5, 0x20), ...BASE), true));
    await requestOK(c);
  },
  'generic/5/15': async (c) => {
    c.send(c.headers(1, raw(...int(0, 5, 0x20), ...int(100, 5, 0x20), ...BASE), true));
    await requestOK(c);
  },

  // ---- http2 ---------------------------------------------------------------------------------
  'http2/3.5/1': async () => {}, // checked in its own test below: needs a fresh connection
  'http2/3.5/2': async () => {},
  'http2/4.1/1': stillAlive(() => [frame(0x16, 0, 0, Buffer.from('unknown'))]),
  'http2/4.1/2': async (c) => {
    c.send(ping('flags!!!', 0x16));
    for (;;) {
      const event = await c.next();
      if (typeof event === 'string') throw new Error(event);
      if (event.type === T.PING) {
        assert.is(event.flags, F.ACK);
        assert.is(event.payload.toString(), 'flags!!!');
        return;
      }
    }
  },
  'http2/4.1/3': async (c) => {
    const f = c.get(1);
    f[5] |= 0x80; // reserved bit of the stream identifier
    c.send(f);
    await requestOK(c);
  },
  'http2/4.2/1': async (c) => {
    c.send(openPost(c), data(1, Buffer.alloc(16384, 0x61), true));
    assert.match((await c.response(1)).body.toString(), '"bodyLength":16384');
  },
  'http2/4.2/2': connectionError((c) => [openPost(c), data(1, Buffer.alloc(16385), true)], E.FRAME_SIZE_ERROR),
  'http2/4.2/3': connectionError((c) => [c.headers(1, raw(...BASE, 0x00, ...str('x-dummy'), ...str('x'.repeat(16400))), true)], E.FRAME_SIZE_ERROR),
  'http2/4.3/1': hpackRejected([0x82, 0x86, 0x84, 0x41]), // a literal cut off after its representation octet
  'http2/4.3/2': connectionError((c) => [frame(T.HEADERS, F.END_STREAM, 1, c.block()), priority(1, 0)], E.PROTOCOL_ERROR),
  'http2/4.3/3': connectionError((c) => [frame(T.HEADERS, F.END_STREAM, 1, c.block()), c.get(3)], E.PROTOCOL_ERROR),
  'http2/5.1/1': connectionError(() => [data(1, 'test', true)], E.PROTOCOL_ERROR),
  'http2/5.1/2': connectionError(() => [rst(1, E.CANCEL)], E.PROTOCOL_ERROR),
  'http2/5.1/3': connectionError(() => [windowUpdate(1, 100)], E.PROTOCOL_ERROR),
  'http2/5.1/4': connectionError((c) => [frame(T.CONTINUATION, F.END_HEADERS, 1, c.block())], E.PROTOCOL_ERROR),
  'http2/5.1/5': streamError((c) => [c.get(1), data(1, 'test', true)], 1, E.STREAM_CLOSED),
  'http2/5.1/6': streamError((c) => [c.get(1), c.headers(1, c.encoder.encode(['x-trailer', 'a']), true)], 1, E.STREAM_CLOSED),
  // A CONTINUATION without an open field block is a connection error PROTOCOL_ERROR (RFC 9113 §6.10).
  'http2/5.1/7': streamError((c) => [c.get(1), frame(T.CONTINUATION, F.END_HEADERS, 1, c.encoder.encode(['x-a', 'b']))], 1, E.STREAM_CLOSED, E.PROTOCOL_ERROR),
  'http2/5.1/8': streamError((c) => [openPost(c), rst(1, E.CANCEL), data(1, 'test', true)], 1, E.STREAM_CLOSED),
  'http2/5.1/9': streamError((c) => [openPost(c), rst(1, E.CANCEL), c.headers(1, c.encoder.encode(['x-a', 'b']), true)], 1, E.STREAM_CLOSED),
  'http2/5.1/10': streamError((c) => [openPost(c), rst(1, E.CANCEL), frame(T.CONTINUATION, F.END_HEADERS, 1, c.encoder.encode(['x-a', 'b']))], 1, E.STREAM_CLOSED, E.PROTOCOL_ERROR),
  'http2/5.1/11': async (c) => {
    c.send(c.get(1));
    await finished(c);
    c.send(data(1, 'test', true));
    await c.connectionError(E.STREAM_CLOSED);
  },
  'http2/5.1/12': async (c) => {
    c.send(c.get(1));
    await finished(c);
    c.send(c.get(1));
    await c.connectionError(E.STREAM_CLOSED);
  },
  'http2/5.1/13': async (c) => {
    c.send(c.get(1));
    await finished(c);
    c.send(frame(T.CONTINUATION, F.END_HEADERS, 1, c.encoder.encode(['x-a', 'b'])));
    await c.connectionError(E.STREAM_CLOSED, E.PROTOCOL_ERROR);
  },
  'http2/5.1.1/1': connectionError((c) => [c.get(2)], E.PROTOCOL_ERROR),
  'http2/5.1.1/2': connectionError((c) => [c.get(5), c.get(3)], E.PROTOCOL_ERROR),
  'http2/5.1.2/1': async (c) => {
    const limit = c.serverSettings.maxConcurrentStreams ?? 0;
    assert.ok(limit > 0 && limit < 1000, `server advertises a limit (${limit})`);
    const frames: Buffer[] = [];
    for (let i = 0; i <= limit; i++) frames.push(openPost(c, 1 + 2 * i));
    c.send(...frames);
    await c.streamError(1 + 2 * limit, E.REFUSED_STREAM, E.PROTOCOL_ERROR);
    await c.alive();
  },
  'http2/5.3.1/1': async (c) => {
    c.send(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PRIORITY, 1, Buffer.concat([u32(1), raw(15), c.block()])));
    await c.streamError(1, E.PROTOCOL_ERROR);
    await c.alive();
  },
  'http2/5.3.1/2': async (c) => {
    c.send(openPost(c), priority(1, 1));
    await c.streamError(1, E.PROTOCOL_ERROR);
    await c.alive();
  },
  'http2/5.4.1/1': async (c) => {
    c.send(frame(T.PING, 0, 0, Buffer.alloc(6)));
    await c.connectionError(E.FRAME_SIZE_ERROR); // GOAWAY, then the TCP close
  },
  'http2/5.5/1': stillAlive(() => [frame(0xff, 0xff, 0, Buffer.from('extension'))]),
  'http2/5.5/2': connectionError((c) => [frame(T.HEADERS, F.END_STREAM, 1, c.block()), frame(0xff, 0, 1, Buffer.from('x'))], E.PROTOCOL_ERROR),
  'http2/6.1/1': connectionError(() => [data(0, 'test', true)], E.PROTOCOL_ERROR),
  'http2/6.1/2': streamError((c) => [c.get(1), data(1, 'test', true)], 1, E.STREAM_CLOSED),
  'http2/6.1/3': connectionError((c) => [openPost(c), frame(T.DATA, F.END_STREAM | F.PADDED, 1, Buffer.concat([raw(6), Buffer.from('test')]))], E.PROTOCOL_ERROR),
  'http2/6.2/1': connectionError((c) => [frame(T.HEADERS, 0, 1, c.block()), priority(1, 0)], E.PROTOCOL_ERROR),
  'http2/6.2/2': connectionError((c) => [frame(T.HEADERS, 0, 1, c.block()), frame(T.HEADERS, F.END_HEADERS, 3, c.block())], E.PROTOCOL_ERROR),
  'http2/6.2/3': connectionError((c) => [c.get(0)], E.PROTOCOL_ERROR),
  'http2/6.2/4': connectionError((c) => {
    const block = c.block();
    return [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS | F.PADDED, 1, Buffer.concat([raw(block.length + 1), block]))];
  }, E.PROTOCOL_ERROR),
  'http2/6.3/1': connectionError(() => [priority(0, 1)], E.PROTOCOL_ERROR),
  'http2/6.3/2': async (c) => {
    c.send(openPost(c), frame(T.PRIORITY, 0, 1, raw(0, 0, 0, 0)));
    await c.streamError(1, E.FRAME_SIZE_ERROR);
    await c.alive();
  },
  'http2/6.4/1': connectionError(() => [rst(0, E.CANCEL)], E.PROTOCOL_ERROR),
  'http2/6.4/2': connectionError(() => [rst(1, E.CANCEL)], E.PROTOCOL_ERROR),
  'http2/6.4/3': connectionError((c) => [openPost(c), frame(T.RST_STREAM, 0, 1, raw(0, 0, 0))], E.FRAME_SIZE_ERROR),
  'http2/6.5/1': connectionError(() => [frame(T.SETTINGS, F.ACK, 0, setting(3, 100))], E.FRAME_SIZE_ERROR),
  'http2/6.5/2': connectionError(() => [frame(T.SETTINGS, 0, 1, setting(3, 100))], E.PROTOCOL_ERROR),
  'http2/6.5/3': connectionError(() => [frame(T.SETTINGS, 0, 0, raw(0, 3, 0))], E.FRAME_SIZE_ERROR),
  'http2/6.5.2/1': connectionError(() => [settings(setting(2, 2))], E.PROTOCOL_ERROR),
  'http2/6.5.2/2': connectionError(() => [settings(setting(4, 2 ** 31))], E.FLOW_CONTROL_ERROR),
  'http2/6.5.2/3': connectionError(() => [settings(setting(5, 16383))], E.PROTOCOL_ERROR),
  'http2/6.5.2/4': connectionError(() => [settings(setting(5, 16777216))], E.PROTOCOL_ERROR),
  'http2/6.5.2/5': async (c) => {
    c.send(settings(setting(0xff, 1)));
    for (;;) {
      const event = await c.next();
      if (typeof event === 'string' || event.type === T.GOAWAY) throw new Error(describe(event));
      if (event.type === T.SETTINGS && event.flags === F.ACK) break;
    }
    await c.alive();
  },
  'http2/6.5.3/1': async (c) => {
    c.send(settings(setting(4, 100), setting(4, 1)), c.get(1));
    const sizes = await dataFrames(c, 1);
    assert.equal(sizes, [1]);
    await noData(c, 150);
  },
  'http2/6.5.3/2': async (c) => {
    c.send(settings(setting(3, 100)));
    const event = await c.next();
    assert.ok(typeof event !== 'string' && event.type === T.SETTINGS && event.flags === F.ACK, 'SETTINGS ACK comes next');
  },
  'http2/6.7/1': async (c) => {
    c.send(ping('12345678'));
    const event = await c.next();
    assert.ok(typeof event !== 'string' && event.type === T.PING && event.flags === F.ACK && event.payload.toString() === '12345678', 'identical PING ACK');
  },
  'http2/6.7/2': async (c) => {
    c.send(ping('unsolici', F.ACK), ping('solicitd'));
    const event = await c.next();
    assert.ok(typeof event !== 'string' && event.type === T.PING && event.payload.toString() === 'solicitd', 'only the PING without ACK is answered');
  },
  'http2/6.7/3': connectionError(() => [ping('12345678', 0, 1)], E.PROTOCOL_ERROR),
  'http2/6.7/4': connectionError(() => [frame(T.PING, 0, 0, Buffer.alloc(6))], E.FRAME_SIZE_ERROR),
  'http2/6.8/1': connectionError(() => [frame(T.GOAWAY, 0, 1, u32(0, 0))], E.PROTOCOL_ERROR),
  'http2/6.9/1': connectionError(() => [windowUpdate(0, 0)], E.PROTOCOL_ERROR),
  // RFC 9113 §6.9 makes a zero increment on a stream a stream error; h2spec accepts either.
  'http2/6.9/2': streamError((c) => [openPost(c), windowUpdate(1, 0)], 1, E.PROTOCOL_ERROR),
  'http2/6.9/3': connectionError(() => [frame(T.WINDOW_UPDATE, 0, 0, raw(0, 0, 1))], E.FRAME_SIZE_ERROR),
  'http2/6.9.1/1': async (c) => {
    c.send(settings(setting(4, 1)), c.get(1));
    assert.equal(await dataFrames(c, 1), [1]);
    await noData(c, 150);
  },
  'http2/6.9.1/2': connectionError(() => [windowUpdate(0, 2 ** 31 - 1), windowUpdate(0, 2 ** 31 - 1)], E.FLOW_CONTROL_ERROR),
  'http2/6.9.1/3': async (c) => {
    c.send(openPost(c), windowUpdate(1, 2 ** 31 - 1), windowUpdate(1, 2 ** 31 - 1));
    await c.streamError(1, E.FLOW_CONTROL_ERROR);
    await c.alive();
  },
  'http2/6.9.2/1': async (c) => {
    c.send(settings(setting(4, 0)), c.get(1));
    await noData(c, 150);
    c.send(settings(setting(4, 1)));
    assert.equal(await dataFrames(c, 1), [1]);
  },
  'http2/6.9.2/2': async (c) => {
    c.send(settings(setting(4, 5)), c.get(1));
    assert.equal(await dataFrames(c, 5), [5]);
    c.send(settings(setting(4, 3))); // the window is now -2
    await noData(c, 100);
    c.send(windowUpdate(1, 3)); // -2 + 3 = 1
    assert.equal(await dataFrames(c, 1), [1]);
    await noData(c, 100);
  },
  'http2/6.9.2/3': connectionError(() => [settings(setting(4, 2 ** 31))], E.FLOW_CONTROL_ERROR),
  'http2/6.10/1': async (c) => {
    c.send(...split(c, 1, c.block(['x-a', 'a'.repeat(30), 'x-b', 'b'.repeat(30)]), 4));
    await requestOK(c);
  },
  'http2/6.10/2': connectionError((c) => [...split(c, 1, c.block(), 2).map((f, i) => (i === 1 ? Buffer.concat([f.subarray(0, 4), raw(0), f.subarray(5)]) : f)), data(1, 'x', true)], E.PROTOCOL_ERROR),
  'http2/6.10/3': connectionError((c) => [frame(T.HEADERS, F.END_STREAM, 1, c.block()), frame(T.CONTINUATION, F.END_HEADERS, 0, c.encoder.encode(['x-a', 'b']))], E.PROTOCOL_ERROR),
  'http2/6.10/4': connectionError((c) => [c.get(1), frame(T.CONTINUATION, F.END_HEADERS, 1, c.encoder.encode(['x-a', 'b']))], E.PROTOCOL_ERROR),
  'http2/6.10/5': connectionError((c) => [...split(c, 1, c.block(), 2), frame(T.CONTINUATION, F.END_HEADERS, 1, c.encoder.encode(['x-a', 'b']))], E.PROTOCOL_ERROR),
  'http2/6.10/6': connectionError((c) => [openPost(c), data(1, 'x', false), frame(T.CONTINUATION, F.END_HEADERS, 1, c.encoder.encode(['x-a', 'b']))], E.PROTOCOL_ERROR),
  'http2/7/1': stillAlive(() => [frame(T.GOAWAY, 0, 0, u32(0, 0xff))]),
  'http2/7/2': stillAlive((c) => [openPost(c), rst(1, 0xff)]),
  'http2/8.1/1': streamError((c) => [openPost(c), data(1, 'test', false), c.headers(1, c.encoder.encode(['x-trailer', 'a']), false)], 1, E.PROTOCOL_ERROR),
  'http2/8.1.2/1': malformed([...REQ(), 'X-TEST', 'ok']),
  'http2/8.1.2.1/1': malformed([...REQ(), ':test', 'ok'].slice(0, 8).concat([':test', 'ok'])),
  'http2/8.1.2.1/2': malformed([':status', '200', ...REQ()]),
  'http2/8.1.2.1/3': async (c) => {
    c.send(openPost(c), data(1, 'test', false), c.headers(1, c.encoder.encode([':method', 'POST']), true));
    await c.streamError(1, E.PROTOCOL_ERROR);
    await c.alive();
  },
  'http2/8.1.2.1/4': malformed([':method', 'GET', ':scheme', 'http', 'x-test', 'ok', ':path', '/', ':authority', '127.0.0.1']),
  'http2/8.1.2.2/1': malformed([...REQ(), 'connection', 'keep-alive']),
  'http2/8.1.2.2/2': malformed([...REQ(), 'te', 'trailers, deflate']),
  'http2/8.1.2.3/1': malformed(REQ('GET', 'http', '')),
  'http2/8.1.2.3/2': malformed([':scheme', 'http', ':path', '/', ':authority', '127.0.0.1']),
  'http2/8.1.2.3/3': malformed([':method', 'GET', ':path', '/', ':authority', '127.0.0.1']),
  'http2/8.1.2.3/4': malformed([':method', 'GET', ':scheme', 'http', ':authority', '127.0.0.1']),
  'http2/8.1.2.3/5': malformed([':method', 'GET', ...REQ()]),
  'http2/8.1.2.3/6': malformed([':scheme', 'http', ...REQ()]),
  'http2/8.1.2.3/7': malformed([':path', '/', ...REQ()]),
  'http2/8.1.2.6/1': streamError((c) => [openPost(c, 1, ['content-length', '1']), data(1, 'test', true)], 1, E.PROTOCOL_ERROR),
  'http2/8.1.2.6/2': streamError((c) => [openPost(c, 1, ['content-length', '1']), data(1, 'te', false), data(1, 'st', true)], 1, E.PROTOCOL_ERROR),
  'http2/8.2/1': connectionError((c) => [openPost(c), frame(T.PUSH_PROMISE, F.END_HEADERS, 1, Buffer.concat([u32(2), c.block()]))], E.PROTOCOL_ERROR),

  // ---- hpack ---------------------------------------------------------------------------------
  'hpack/2.3.3/1': hpackRejected([...BASE, ...int(70, 7, 0x80)]),
  'hpack/2.3.3/2': hpackRejected([...BASE, ...int(70, 6, 0x40), ...str('x')]),
  'hpack/4.2/1': hpackRejected([...BASE, ...int(100, 5, 0x20)]),
  'hpack/5.2/1': hpackRejected([...BASE, 0x00, ...str('x-test'), 0x83, ...huffmanEncode('a'), 0xff, 0xff]),
  'hpack/5.2/2': hpackRejected([...BASE, 0x00, ...str('x-test'), 0x81, 0x00]),
  'hpack/5.2/3': hpackRejected([...BASE, 0x00, ...str('x-test'), 0x84, 0xff, 0xff, 0xff, 0xff]),
  'hpack/6.1/1': hpackRejected([...BASE, 0x80]),
  'hpack/6.3/1': hpackRejected([...int(4097, 5, 0x20), ...BASE]),
};

const conformance = suite('h2spec server cases');
let server: TestServer;
let passed = 0;
let total = 0;
conformance.before(async () => {
  server = await startServer({ settingsTimeoutMs: 5000 });
});
conformance.after(async () => {
  await server.close();
  console.log(`h2spec server cases: ${passed}/${total} passed`);
});

if (!existsSync(corpusPath)) {
  console.log(`SKIPPED: h2spec server cases — ${corpusPath} is absent (set SLUICE_TESTDATA)`);
} else {
  const corpus = JSON.parse(readFileSync(corpusPath, 'utf8')) as { cases: Array<{ id: string; desc: string; requirement: string }> };
  conformance('the corpus lists 146 cases, each implemented here', () => {
    assert.is(corpus.cases.length, 146);
    for (const { id } of corpus.cases) assert.ok(cases[id] !== undefined, `case ${id} has a test`);
  });
  for (const { id, desc, requirement } of corpus.cases) {
    conformance(`${id}: ${desc}`, async () => {
      total++;
      const run = cases[id];
      assert.ok(run !== undefined, `no test for ${id}`);
      if (id === 'http2/3.5/1') {
        // The server's connection preface (its SETTINGS) is its first frame.
        const c = await RawClient.connect(server.port);
        try {
          c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), settings());
          const first = await c.next();
          assert.ok(typeof first !== 'string' && first.type === T.SETTINGS && first.flags === 0, `first frame is SETTINGS, got ${describe(first)}`);
        } finally {
          c.close();
        }
        passed++;
        return;
      }
      if (id === 'http2/3.5/2') {
        const c = await RawClient.connect(server.port);
        try {
          c.send(Buffer.from('INVALID CONNECTION PREFACE\r\n\r\n'));
          await c.connectionError(E.PROTOCOL_ERROR);
        } finally {
          c.close();
        }
        passed++;
        return;
      }
      const c = await RawClient.connect(server.port);
      try {
        await c.handshake();
        await run(c);
      } catch (error) {
        (error as Error).message = `${id} (${requirement}): ${(error as Error).message}`;
        throw error;
      } finally {
        c.close();
      }
      passed++;
    });
  }
}

conformance.run();
