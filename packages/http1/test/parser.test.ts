// Http1Parser's API: what it reports, body views, limits with their statuses, pause, finish, upgrade.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HeaderMap, RequestHeader, ResponseHeader } from '@sluice/core';
import { H1ParseError, Http1Parser } from '../src/index.js';
import type { Http1ParserOptions } from '../src/index.js';

interface Recorded {
  heads: Array<RequestHeader | ResponseHeader>;
  bodies: Buffer[];
  trailers: HeaderMap[];
  completes: number;
}

function recorder(kind: 'request' | 'response', options: Http1ParserOptions = {}, onHead?: (h: RequestHeader | ResponseHeader) => boolean | void) {
  const rec: Recorded = { heads: [], bodies: [], trailers: [], completes: 0 };
  const parser = new Http1Parser<RequestHeader | ResponseHeader>(kind, {
    onHead: (h) => {
      rec.heads.push(h);
      return onHead?.(h);
    },
    onBody: (b) => void rec.bodies.push(b),
    onTrailers: (t) => void rec.trailers.push(t),
    onMessageComplete: () => void rec.completes++,
  }, options);
  return { parser, rec };
}

const B = (s: string) => Buffer.from(s, 'latin1');

function failure(fn: () => void): H1ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof H1ParseError) return e;
    throw e;
  }
  throw new Error('expected an H1ParseError');
}

const api = suite('parser reports');

api('request head into core RequestHeader, case and order kept', () => {
  const { parser, rec } = recorder('request');
  parser.execute(B('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Custom-ID: 7\r\nhost: dup\r\n\r\n'));
  const head = rec.heads[0] as RequestHeader;
  assert.ok(head instanceof RequestHeader);
  assert.is(head.method, 'GET');
  assert.is(head.uri, '/a?b=1');
  assert.is(head.version, '1.1');
  assert.equal(head.headers.entries(), [['Host', 'x'], ['X-Custom-ID', '7'], ['host', 'dup']]);
  assert.equal(head.headers.getAll('HOST'), ['x', 'dup']);
  assert.is(rec.completes, 1);
  assert.is(parser.framing, 'none');
  assert.is(parser.keepAlive, true);
});

api('response head into core ResponseHeader with reason', () => {
  const { parser, rec } = recorder('response');
  parser.execute(B('HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\nno'));
  const head = rec.heads[0] as ResponseHeader;
  assert.ok(head instanceof ResponseHeader);
  assert.is(head.status, 404);
  assert.is(head.reason, 'Not Found');
  assert.is(head.version, '1.0');
  assert.is(parser.keepAlive, false, 'HTTP/1.0 without keep-alive');
});

api('body chunks are views of the Buffers that arrived, not copies', () => {
  const { parser, rec } = recorder('request');
  const input = B('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello');
  parser.execute(input);
  assert.is(rec.bodies.length, 1);
  assert.is(rec.bodies[0].buffer, input.buffer);
  assert.is(rec.bodies[0].byteOffset, input.byteOffset + input.length - 5);
  const chunked = recorder('request');
  const c = B('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n');
  chunked.parser.execute(c);
  assert.equal(chunked.rec.bodies.map((b) => b.toString()), ['abc', 'de']);
  assert.ok(chunked.rec.bodies.every((b) => b.buffer === c.buffer));
  assert.equal(chunked.rec.trailers[0].entries(), [['X-T', '1']]);
});

api('pipelined messages, and pause() stops after the current event', () => {
  let parser!: Http1Parser<RequestHeader | ResponseHeader>;
  const got: string[] = [];
  parser = new Http1Parser('request', {
    onHead: (h) => void got.push((h as RequestHeader).uri),
    onBody: () => {},
    onTrailers: () => {},
    onMessageComplete: () => parser.pause(),
  });
  const input = B('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n');
  const used = parser.execute(input);
  assert.is(used, 19);
  assert.equal(got, ['/1']);
  assert.is(parser.execute(input.subarray(used)), 19);
  assert.equal(got, ['/1', '/2']);
});

api('onHead returning true: no body (a response to HEAD)', () => {
  const { parser, rec } = recorder('response', {}, () => true);
  parser.execute(B('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'));
  assert.is(rec.heads.length, 2);
  assert.is(rec.completes, 2);
});

api('1xx responses are interim; 101 and CONNECT switch protocols', () => {
  const { parser, rec } = recorder('response');
  parser.execute(B('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(rec.heads.map((h) => (h as ResponseHeader).status), [100, 103, 200]);
  const up = recorder('response');
  const input = B('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello');
  const used = up.parser.execute(input);
  assert.ok(up.parser.upgraded);
  assert.is(input.subarray(used).toString('latin1'), '\x81\x05hello');
  const connect = recorder('request');
  const c = B('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01');
  assert.is(connect.parser.execute(c), c.length - 3);
  assert.ok(connect.parser.upgraded);
});

api('close-delimited response body ends at finish()', () => {
  const { parser, rec } = recorder('response');
  parser.execute(B('HTTP/1.1 200 OK\r\n\r\npart one, '));
  parser.execute(B('part two'));
  assert.is(rec.completes, 0);
  parser.finish();
  assert.is(rec.completes, 1);
  assert.is(Buffer.concat(rec.bodies).toString(), 'part one, part two');
  assert.is(parser.keepAlive, false);
});

api('finish() inside a message is ERR_H1_INCOMPLETE_MESSAGE', () => {
  const { parser } = recorder('request');
  parser.execute(B('POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc'));
  const e = failure(() => parser.finish());
  assert.is(e.code, 'ERR_H1_INCOMPLETE_MESSAGE');
  assert.is(e.offset, 42);
});

api.run();

const errors = suite('parser errors and limits');

errors('errors are typed, with code, status, reason and offset in the message', () => {
  const { parser } = recorder('request');
  const e = failure(() => parser.execute(B('GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n')));
  assert.is(e.type, 'H1Error');
  assert.is(e.code, 'ERR_H1_INVALID_CONTENT_LENGTH');
  assert.is(e.status, 400);
  assert.is(e.offset, 33);
  assert.match(e.message, 'at byte 33');
  // The parser stays failed.
  assert.throws(() => parser.execute(B('GET / HTTP/1.1\r\n\r\n')), (x: unknown) => x === e);
});

errors('offsets count from the start of the stream across chunks', () => {
  const { parser } = recorder('request');
  parser.execute(B('GET / HTTP/1.1\r\n\r\nGET / HT'));
  const e = failure(() => parser.execute(B('TP/1.1\r\nBad Name: x\r\n\r\n')));
  assert.is(e.offset, 18 + 16 + 3);
});

const limits: Array<[string, Http1ParserOptions, string, string, number]> = [
  ['start line', { maxStartLineBytes: 32 }, `GET /${'a'.repeat(40)} HTTP/1.1\r\n\r\n`, 'ERR_H1_START_LINE_TOO_LONG', 414],
  ['header bytes', { maxHeaderBytes: 64 }, `GET / HTTP/1.1\r\nA: ${'v'.repeat(80)}\r\n\r\n`, 'ERR_H1_HEADERS_TOO_LARGE', 431],
  ['header count', { maxHeaderCount: 2 }, 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 'ERR_H1_TOO_MANY_HEADERS', 431],
  ['chunk-size line', { maxChunkLineBytes: 16 }, `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(30)}\r\nx\r\n0\r\n\r\n`, 'ERR_H1_CHUNK_LINE_TOO_LONG', 413],
  ['body (Content-Length)', { maxBodyBytes: 4 }, 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello', 'ERR_H1_BODY_TOO_LARGE', 413],
  ['body (chunked)', { maxBodyBytes: 4 }, 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', 'ERR_H1_BODY_TOO_LARGE', 413],
];
for (const [name, options, input, code, status] of limits) {
  errors(`limit: ${name} -> ${code} (${status}), whole or one byte at a time`, () => {
    const whole = failure(() => recorder('request', options).parser.execute(B(input)));
    assert.is(whole.code, code);
    assert.is(whole.status, status);
    const { parser } = recorder('request', options);
    const bytes = B(input);
    const split = failure(() => {
      for (let i = 0; i < bytes.length; i++) parser.execute(bytes.subarray(i, i + 1));
    });
    assert.is(split.code, code);
    assert.is(split.offset, whole.offset);
  });
}

errors('defaults: 8 KiB start line, 16 KiB of fields, 256 fields', () => {
  assert.is(failure(() => recorder('request').parser.execute(B(`GET /${'a'.repeat(8200)} HTTP/1.1\r\n\r\n`))).code, 'ERR_H1_START_LINE_TOO_LONG');
  assert.is(failure(() => recorder('request').parser.execute(B(`GET / HTTP/1.1\r\nA: ${'v'.repeat(16400)}\r\n\r\n`))).code, 'ERR_H1_HEADERS_TOO_LARGE');
  let many = 'GET / HTTP/1.1\r\n';
  for (let i = 0; i < 257; i++) many += `H${i}: v\r\n`;
  assert.is(failure(() => recorder('request').parser.execute(B(many + '\r\n'))).code, 'ERR_H1_TOO_MANY_HEADERS');
  const ok = recorder('request');
  ok.parser.execute(B(many.split('\r\n').slice(0, 257).join('\r\n') + '\r\n\r\n'));
  assert.is(ok.rec.heads[0].headers.size, 256);
});

errors('versions: 1.0 and 1.1 only; 2.0 and 0.9 are 505, others 400', () => {
  assert.is(failure(() => recorder('request').parser.execute(B('GET / HTTP/2.0\r\n\r\n'))).status, 505);
  assert.is(failure(() => recorder('request').parser.execute(B('GET / HTTP/1.2\r\n\r\n'))).status, 400);
  assert.is(failure(() => recorder('request').parser.execute(B('GET / HTTP/1.x\r\n\r\n'))).code, 'ERR_H1_INVALID_VERSION');
});

errors.run();
