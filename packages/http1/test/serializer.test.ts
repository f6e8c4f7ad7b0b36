// Serializer, chunked encoder and body framing: what we put on the wire parses back (with our parser
// and with Node's llhttp) to what we meant.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HeaderMap, RequestHeader, ResponseHeader } from '@sluice/core';
import { ChunkedEncoder, frameRequest, frameResponse, httpDateFieldLine, httpDateNow, lastChunk, responseHasBody, serializeRequestHead, serializeResponseHead } from '../src/index.js';
import { runNative, runOurs } from './helpers/outcome.js';

const heads = suite('serializer');

heads('request head: one string, case and order kept, Latin-1 bytes survive', () => {
  const req = RequestHeader.build('POST', '/p?q=1');
  req.appendHeader('Host', 'example.com').appendHeader('X-Custom-ID', 'ÿ\xe9').appendHeader('x-custom-id', 'two').appendHeader('Content-Length', '0');
  const text = serializeRequestHead(req);
  assert.is(text, 'POST /p?q=1 HTTP/1.1\r\nHost: example.com\r\nX-Custom-ID: ÿ\xe9\r\nx-custom-id: two\r\nContent-Length: 0\r\n\r\n');
  const bytes = Buffer.from(text, 'latin1');
  for (const o of [runOurs('request', bytes), runNative('request', bytes)]) {
    assert.equal(o.messages[0].headers, [['Host', 'example.com'], ['X-Custom-ID', 'ÿ\xe9'], ['x-custom-id', 'two'], ['Content-Length', '0']]);
    assert.ok(o.messages[0].complete);
  }
});

heads('response head: status line with the standard or received reason', () => {
  const res = ResponseHeader.build(404);
  res.appendHeader('Content-Length', '0');
  assert.is(serializeResponseHead(res), 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  const custom = new ResponseHeader(299, '1.0', new HeaderMap(), 'Odd');
  assert.is(serializeResponseHead(custom), 'HTTP/1.0 299 Odd\r\n\r\n');
});

heads('Date: one cached IMF-fixdate, as text and as a field line, moving on with the second', async () => {
  const first = httpDateNow();
  assert.match(first, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
  assert.is(httpDateFieldLine(), `Date: ${httpDateNow()}\r\n`);
  // Past the end of this second (bounded wait, not a speed check), both have moved on together.
  const end = Date.now() + 5000;
  while (httpDateNow() === first && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.is.not(httpDateNow(), first);
  assert.is(httpDateFieldLine(), `Date: ${httpDateNow()}\r\n`);
});

heads.run();

const chunked = suite('chunked encoder');

chunked('chunks and trailers parse back with both parsers; data is not copied', () => {
  const enc = new ChunkedEncoder();
  const a = Buffer.from('hello');
  const pieces = [enc.encode(a), enc.encode(Buffer.alloc(0)), enc.encode(Buffer.alloc(300, 'x'))];
  assert.is(pieces[1], null, 'an empty chunk would end the body');
  assert.is((pieces[0] as Buffer[])[1], a);
  const trailers = new HeaderMap().append('X-Checksum', 'abc');
  const wire = Buffer.concat([Buffer.from('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'), ...(pieces.filter(Boolean).flat() as Buffer[]), enc.finish(trailers)]);
  assert.is(enc.bytes, 305);
  for (const o of [runOurs('request', wire), runNative('request', wire)]) {
    assert.is(o.messages[0].body, 'hello' + 'x'.repeat(300));
    assert.equal(o.messages[0].trailers, [['X-Checksum', 'abc']]);
    assert.ok(o.messages[0].complete);
  }
  assert.is(lastChunk().toString(), '0\r\n\r\n');
  assert.match(pieces[2]?.[0].toString() ?? '', /^12c\r\n$/);
});

chunked.run();

const framing = suite('body framing');

framing('responses: none for HEAD, 1xx, 204, 304 and CONNECT 2xx; length; chunked; close for HTTP/1.0', () => {
  assert.is(responseHasBody('HEAD', 200), false);
  assert.is(responseHasBody('GET', 204), false);
  assert.is(responseHasBody('GET', 304), false);
  assert.is(responseHasBody('GET', 103), false);
  assert.is(responseHasBody('CONNECT', 200), false);
  assert.is(responseHasBody('CONNECT', 407), true);
  const withLength = ResponseHeader.build(200).insertHeader('Content-Length', '3');
  assert.is(frameResponse('GET', '1.1', withLength), 'length');
  const unknown = ResponseHeader.build(200);
  assert.is(frameResponse('GET', '1.1', unknown), 'chunked');
  assert.is(unknown.header('transfer-encoding'), 'chunked');
  const old = ResponseHeader.build(200);
  assert.is(frameResponse('GET', '1.0', old), 'close');
  assert.is(old.header('transfer-encoding'), undefined);
  assert.is(frameResponse('HEAD', '1.1', ResponseHeader.build(200)), 'none');
});

framing('requests: no body for GET unless given; chunked when the length is unknown', () => {
  assert.is(frameRequest(RequestHeader.build('GET', '/'), false), 'none');
  const post = RequestHeader.build('POST', '/');
  assert.is(frameRequest(post, true), 'chunked');
  assert.is(post.header('transfer-encoding'), 'chunked');
  assert.is(frameRequest(RequestHeader.build('PUT', '/').insertHeader('Content-Length', '4'), true), 'length');
});

framing.run();
