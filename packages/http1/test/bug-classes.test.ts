// One test per class of HTTP/1 parser bug that differential fuzzing of real servers and proxies found.
// Each feeds the bad bytes whole and split at every offset, and checks the exact outcome.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { H1ParseError, Http1Parser } from '../src/index.js';
import { runNative, runOurs } from './helpers/outcome.js';
import type { Outcome } from './helpers/outcome.js';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Our outcome, checked to be the same for every two-way split. */
function parse(kind: 'request' | 'response', s: string): Outcome {
  const input = B(s);
  const whole = runOurs(kind, input);
  for (let i = 1; i < input.length; i++) assert.equal(runOurs(kind, input, [i]), whole, `split at ${i}`);
  return whole;
}

function rejects(kind: 'request' | 'response', s: string, code: string): void {
  const o = parse(kind, s);
  assert.is(o.error?.ours, code, `${JSON.stringify(s)} must fail with ${code}, got ${JSON.stringify(o)}`);
  assert.ok(runNative(kind, B(s)).error, `llhttp rejects ${JSON.stringify(s)} too`);
}

const bugs = suite('parser bug classes');

bugs('lax integers: chunk sizes and Content-Length with 0x, +, -, _, empty, trailing junk or leading whitespace', () => {
  for (const cl of ['0x5', '+5', '-5', '5_', '_5', '5x', '5 5', '5,5', '5.0', '1e1', '\xa05', '5\xa0', '\x855'])
    rejects('request', `POST / HTTP/1.1\r\nContent-Length: ${cl}\r\n\r\nhello`, 'ERR_H1_INVALID_CONTENT_LENGTH');
  rejects('request', 'POST / HTTP/1.1\r\nContent-Length: \r\n\r\nhello', 'ERR_H1_INVALID_CONTENT_LENGTH');
  rejects('request', 'POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n', 'ERR_H1_INVALID_CONTENT_LENGTH');
  // Leading OWS is not part of the value (RFC 9110 §5.5): " 5" is 5, as in llhttp.
  assert.is(parse('request', 'POST / HTTP/1.1\r\nContent-Length:   5\r\n\r\nhello').messages[0].body, 'hello');
  for (const size of ['0x5', '+5', '-5', '5_', '_5', ' 5', '5 ', '\t5', 'g', '5\xa0'])
    rejects('request', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`, 'ERR_H1_INVALID_CHUNK_SIZE');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n', 'ERR_H1_INVALID_CHUNK_SIZE');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n', 'ERR_H1_INVALID_CHUNK_SIZE');
  // Leading zeros are digits, not a prefix trick.
  assert.is(parse('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0005\r\nhello\r\n0\r\n\r\n').messages[0].body, 'hello');
});

bugs('CR, LF or NUL inside field values, and a bare CR or LF taken as a line end', () => {
  rejects('request', 'GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n', 'ERR_H1_INVALID_HEADER_VALUE');
  rejects('request', 'GET / HTTP/1.1\r\nA: b\rc\r\n\r\n', 'ERR_H1_LF_EXPECTED');
  rejects('request', 'GET / HTTP/1.1\r\nA: b\nc: d\r\n\r\n', 'ERR_H1_CR_EXPECTED');
  rejects('request', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 'ERR_H1_INVALID_VERSION');
  rejects('request', 'GET / HTTP/1.1\r\nHost: a\r\n\n', 'ERR_H1_INVALID_HEADER_TOKEN');
  rejects('request', 'GET / HTTP/1.1\r\nHost: a\r\n\r\r\n', 'ERR_H1_LF_EXPECTED');
  rejects('response', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', 'ERR_H1_CR_EXPECTED');
  rejects('request', 'GET / HTTP/1.1\r\nA: \x7f\r\n\r\n', 'ERR_H1_INVALID_HEADER_VALUE');
});

bugs('whitespace, \\xa0 or \\x85 around names and values is never stripped into meaning', () => {
  rejects('request', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'ERR_H1_INVALID_HEADER_TOKEN');
  rejects('request', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n', 'ERR_H1_INVALID_HEADER_TOKEN');
  rejects('request', 'GET / HTTP/1.1\r\n\xa0Host: a\r\n\r\n', 'ERR_H1_INVALID_HEADER_TOKEN');
  rejects('request', 'GET / HTTP/1.1\r\nHost\x85: a\r\n\r\n', 'ERR_H1_INVALID_HEADER_TOKEN');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\n', 'ERR_H1_UNKNOWN_TRANSFER_CODING');
  // \xa0 and \x85 are obs-text, part of the value: kept byte for byte, not trimmed as whitespace.
  const o = parse('request', 'GET / HTTP/1.1\r\nX: \xa0v\x85 \t\r\n\r\n');
  assert.equal(o.messages[0].headers, [['X', '\xa0v\x85']]);
});

bugs('obs-fold is rejected', () => {
  rejects('request', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n', 'ERR_H1_OBS_FOLD');
  rejects('request', 'GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n', 'ERR_H1_OBS_FOLD');
  rejects('request', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 'ERR_H1_UNEXPECTED_SPACE');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n', 'ERR_H1_OBS_FOLD');
});

bugs('empty, negative or duplicate Content-Length is never resolved first-wins or last-wins', () => {
  rejects('request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', 'ERR_H1_DUPLICATE_CONTENT_LENGTH');
  rejects('request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 'ERR_H1_DUPLICATE_CONTENT_LENGTH');
  rejects('request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 0\r\n\r\nhello', 'ERR_H1_DUPLICATE_CONTENT_LENGTH');
  rejects('request', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 'ERR_H1_INVALID_CONTENT_LENGTH');
  rejects('request', 'POST / HTTP/1.1\r\nContent-Length:\r\nContent-Length: 5\r\n\r\nhello', 'ERR_H1_INVALID_CONTENT_LENGTH');
  rejects('response', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 'ERR_H1_DUPLICATE_CONTENT_LENGTH');
  rejects('request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'ERR_H1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 'ERR_H1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING');
});

bugs('Transfer-Encoding: ",chunked" is chunked; unknown codings are not chunked; chunked twice is rejected', () => {
  // RFC 9110 §5.6.1: empty list elements are ignored, so ",chunked" is chunked (llhttp agrees).
  assert.is(parse('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n').messages[0].body, 'hello');
  for (const te of ['chunkedx', 'xchunked', 'chunk', 'x-chunked', 'chunked;q=1', 'chunked\t'])
    assert.ok(parse('request', `POST / HTTP/1.1\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`).error, `${te} is not chunked`);
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', 'ERR_H1_INVALID_TRANSFER_ENCODING');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'ERR_H1_INVALID_TRANSFER_ENCODING');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n', 'ERR_H1_INVALID_TRANSFER_ENCODING');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n', 'ERR_H1_INVALID_TRANSFER_ENCODING');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: pigeons\r\n\r\n0\r\n\r\n', 'ERR_H1_UNKNOWN_TRANSFER_CODING');
  // A response whose final coding is not chunked is delimited by close (RFC 9112 §6.3 rule 4).
  const r = parse('response', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  assert.is(r.messages[0].body, '5\r\nhello\r\n0\r\n\r\n');
});

bugs('field lines without a colon are rejected', () => {
  rejects('request', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 'ERR_H1_INVALID_HEADER_TOKEN');
  rejects('request', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', 'ERR_H1_INVALID_HEADER_TOKEN');
  rejects('request', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 'ERR_H1_INVALID_HEADER_TOKEN');
  rejects('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer\r\n\r\n', 'ERR_H1_INVALID_HEADER_TOKEN');
});

bugs('CR or whitespace inside chunk extensions is rejected', () => {
  for (const ext of ['5;a\r=b', '5;a=\rb', '5; a=b', '5;a =b', '5;a= b', '5;a=b ', '5 ;a=b', '5;a="b\rc"', '5;'])
    assert.ok(parse('request', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${ext}\r\nhello\r\n0\r\n\r\n`).error, `${JSON.stringify(ext)} rejected`);
  assert.is(parse('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;c="d\\"e"\r\nhello\r\n0\r\n\r\n').messages[0].body, 'hello');
});

bugs('bytes pipelined after a bad request are never parsed', () => {
  const heads: string[] = [];
  const parser = new Http1Parser('request', {
    onHead: (h) => void heads.push('method' in h ? h.uri : ''),
    onBody: () => {},
    onTrailers: () => {},
    onMessageComplete: () => {},
  });
  const bad = B('GET /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n');
  assert.throws(() => parser.execute(bad), (e: unknown) => e instanceof H1ParseError && e.code === 'ERR_H1_DUPLICATE_CONTENT_LENGTH' && e.status === 400);
  assert.throws(() => parser.execute(B('GET /later HTTP/1.1\r\n\r\n')), (e: unknown) => e instanceof H1ParseError);
  assert.equal(heads, []);
  // A good request followed by a bad one: the good one is delivered, nothing after the bad one.
  const o = parse('request', 'GET /ok HTTP/1.1\r\n\r\nGET /bad HTTP/1.1\r\nA : b\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n');
  assert.equal(o.messages.map((m) => m.url), ['/ok']);
  assert.is(o.error?.ours, 'ERR_H1_INVALID_HEADER_TOKEN');
});

bugs.run();
