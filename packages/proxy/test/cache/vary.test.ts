import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RequestHeader, ResponseHeader } from '@sluice/core';
import { varyFields, varianceKey, normalizedFieldValue } from '../../src/cache/vary.js';

function request(fields: [string, string][]): RequestHeader {
  const req = new RequestHeader('GET', '/');
  for (const [n, v] of fields) req.headers.append(n, v);
  return req;
}
function vary(...lines: string[]): ResponseHeader {
  const resp = new ResponseHeader(200);
  for (const line of lines) resp.headers.append('Vary', line);
  return resp;
}

const fields = suite('Vary field names (RFC 9111 §4.1)');

fields('lower-cased, sorted, deduplicated across lines', () => {
  assert.equal(varyFields(vary('Accept-Encoding, User-Agent', 'accept-encoding , Accept-Language')), ['accept-encoding', 'accept-language', 'user-agent']);
  assert.equal(varyFields(new ResponseHeader(200)), []);
  assert.equal(varyFields(vary('')), []);
});

fields('* anywhere means never matches', () => {
  assert.is(varyFields(vary('accept', '*')), '*');
});

const key = suite('variance (secondary) key');

key('no Vary: no variance', () => {
  assert.is(varianceKey([], request([['accept', 'x']])), undefined);
});

key('equal after normalisation: whitespace, line splits, case of case-insensitive fields', () => {
  const a = varianceKey(['accept-encoding'], request([['Accept-Encoding', 'GZIP,  br']]));
  const b = varianceKey(['accept-encoding'], request([['accept-encoding', 'gzip'], ['accept-encoding', 'br']]));
  const c = varianceKey(['accept-encoding'], request([['accept-encoding', ' gzip ,br ']]));
  assert.is(a, b);
  assert.is(a, c);
  assert.is(normalizedFieldValue(request([['accept-encoding', 'GZIP,  br']]), 'accept-encoding'), 'gzip, br');
});

key('case-sensitive fields keep case', () => {
  assert.is.not(varianceKey(['x-tenant'], request([['x-tenant', 'A']])), varianceKey(['x-tenant'], request([['x-tenant', 'a']])));
});

key('absent differs from empty and from other values', () => {
  const absent = varianceKey(['accept-language'], request([]));
  const empty = varianceKey(['accept-language'], request([['accept-language', '']]));
  const en = varianceKey(['accept-language'], request([['accept-language', 'en']]));
  assert.is.not(absent, empty);
  assert.is.not(absent, en);
  assert.is.not(empty, en);
});

key('several fields: each contributes, other request fields do not', () => {
  const f = ['accept-encoding', 'user-agent'];
  const a = varianceKey(f, request([['accept-encoding', 'gzip'], ['user-agent', 'curl'], ['cookie', 'x=1']]));
  const b = varianceKey(f, request([['accept-encoding', 'gzip'], ['user-agent', 'curl'], ['cookie', 'x=2']]));
  const c = varianceKey(f, request([['accept-encoding', 'gzip'], ['user-agent', 'wget']]));
  assert.is(a, b);
  assert.is.not(a, c);
});

fields.run();
key.run();
