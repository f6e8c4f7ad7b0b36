import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RequestHeader, ResponseHeader } from '@sluice/core';
import { request, response } from './fields.js';
import { responseCacheable, stripFields, type CacheabilityOptions } from '../../src/cache/cacheability.js';

function reason(req: RequestHeader, resp: ResponseHeader, options?: CacheabilityOptions): string {
  const r = responseCacheable(req, resp, options);
  return r.cacheable ? 'cacheable' : r.reason;
}

const rules = suite('responseCacheable (RFC 9111 §3)');

rules('a 200 with max-age is cacheable; the detail of refusals is readable', () => {
  assert.is(reason(request('GET'), response(200, { 'cache-control': 'max-age=60' })), 'cacheable');
  const r = responseCacheable(request('GET'), response(200, { 'cache-control': 'no-store' }));
  assert.is(r.cacheable, false);
  if (!r.cacheable) assert.match(r.detail, /no-store/);
});

rules('methods: GET only by default, configurable', () => {
  assert.is(reason(request('POST'), response(200, { 'cache-control': 'max-age=60' })), 'method');
  assert.is(reason(request('HEAD'), response(200, { 'cache-control': 'max-age=60' })), 'method');
  assert.is(reason(request('POST'), response(200, { 'cache-control': 'max-age=60' }), { methods: new Set(['GET', 'POST']) }), 'cacheable');
});

rules('no-store on the request or the response', () => {
  assert.is(reason(request('GET', { 'cache-control': 'no-store' }), response(200, { 'cache-control': 'max-age=60' })), 'request-no-store');
  assert.is(reason(request('GET'), response(200, { 'cache-control': 'max-age=60, no-store' })), 'no-store');
});

rules('must-understand overrides no-store for understood statuses only (§5.2.2.3)', () => {
  assert.is(reason(request('GET'), response(200, { 'cache-control': 'max-age=60, no-store, must-understand' })), 'cacheable');
  assert.is(reason(request('GET'), response(299, { 'cache-control': 'max-age=60, no-store, must-understand' })), 'must-understand');
});

rules('statuses: 1xx, 304 and 206 are not stored; non-heuristic statuses need explicit freshness', () => {
  assert.is(reason(request('GET'), response(304, { 'cache-control': 'max-age=60' })), 'status');
  assert.is(reason(request('GET'), response(103)), 'status');
  assert.is(reason(request('GET'), response(206, { 'cache-control': 'max-age=60' })), 'partial-content');
  assert.is(reason(request('GET'), response(200)), 'cacheable');
  assert.is(reason(request('GET'), response(404)), 'cacheable');
  assert.is(reason(request('GET'), response(302)), 'no-freshness');
  assert.is(reason(request('GET'), response(500)), 'no-freshness');
  assert.is(reason(request('GET'), response(302, { 'cache-control': 'max-age=5' })), 'cacheable');
  assert.is(reason(request('GET'), response(302, { expires: 'Thu, 01 Jan 2099 00:00:00 GMT' })), 'cacheable');
  assert.is(reason(request('GET'), response(307, { 'cache-control': 'public' })), 'cacheable');
  assert.is(reason(request('GET'), response(503), { defaultTtlMs: (s) => (s === 503 ? 1000 : 0) }), 'cacheable');
});

rules('private: not in a shared cache; a private cache may store it', () => {
  assert.is(reason(request('GET'), response(200, { 'cache-control': 'private, max-age=60' })), 'private');
  assert.is(reason(request('GET'), response(302, { 'cache-control': 'private' }), { shared: false }), 'cacheable');
});

rules('Authorization (§3.5): only with public, must-revalidate or s-maxage', () => {
  const auth = { authorization: 'Basic Zm9vOmJhcg==' };
  assert.is(reason(request('GET', auth), response(200, { 'cache-control': 'max-age=60' })), 'authorization');
  assert.is(reason(request('GET', auth), response(200, { 'cache-control': 'max-age=60, public' })), 'cacheable');
  assert.is(reason(request('GET', auth), response(200, { 'cache-control': 'max-age=60, must-revalidate' })), 'cacheable');
  assert.is(reason(request('GET', auth), response(200, { 'cache-control': 's-maxage=60' })), 'cacheable');
  assert.is(reason(request('GET', auth), response(200, { 'cache-control': 'max-age=60' }), { shared: false }), 'cacheable');
});

rules('Vary: * is uncacheable, in any position', () => {
  assert.is(reason(request('GET'), response(200, { 'cache-control': 'max-age=60', vary: 'accept, *' })), 'vary-star');
  assert.is(reason(request('GET'), response(200, { 'cache-control': 'max-age=60', vary: 'accept' })), 'cacheable');
});

rules('Set-Cookie policy', () => {
  const resp = () => response(200, { 'cache-control': 'max-age=60', 'set-cookie': 'a=b' });
  assert.is(reason(request('GET'), resp()), 'set-cookie');
  const stripped = responseCacheable(request('GET'), resp(), { setCookie: 'strip' });
  assert.ok(stripped.cacheable && stripped.stripFields.includes('set-cookie'));
  const stored = responseCacheable(request('GET'), resp(), { setCookie: 'store' });
  assert.ok(stored.cacheable && !stored.stripFields.includes('set-cookie'));
});

rules('max cacheable size by Content-Length', () => {
  const resp = response(200, { 'cache-control': 'max-age=60', 'content-length': '1001' });
  assert.is(reason(request('GET'), resp, { maxFileSizeBytes: 1000 }), 'too-large');
  assert.is(reason(request('GET'), resp, { maxFileSizeBytes: 1001 }), 'cacheable');
});

const strip = suite('fields not stored (RFC 9111 §3.1, §5.2.2.4, §5.2.2.7)');

strip('hop-by-hop, Connection-named, private= and no-cache= fields are stripped', () => {
  const resp = response(200, {
    'cache-control': 'max-age=60, private="X-User", no-cache="X-Token"',
    connection: 'X-Hop, keep-alive', 'x-hop': '1', 'x-user': 'alice', 'x-token': 't', 'keep-alive': 'timeout=5',
    'proxy-authenticate': 'Basic', 'content-type': 'text/plain',
  });
  const r = responseCacheable(request('GET'), resp);
  assert.ok(r.cacheable);
  if (!r.cacheable) return;
  for (const name of ['connection', 'x-hop', 'x-user', 'x-token', 'keep-alive', 'proxy-authenticate']) assert.ok(r.stripFields.includes(name), name);
  assert.is(stripFields(resp, r.stripFields), 6);
  assert.equal(resp.headers.entries().map(([n]) => n), ['cache-control', 'content-type']);
});

strip('a private cache keeps private= fields', () => {
  const r = responseCacheable(request('GET'), response(200, { 'cache-control': 'max-age=6, private="x-user"' }), { shared: false });
  assert.ok(r.cacheable && !r.stripFields.includes('x-user'));
});

rules.run();
strip.run();
