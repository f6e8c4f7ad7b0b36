import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request, response } from './fields.js';
import { invalidatesCache, invalidationTargets } from '../../src/cache/invalidation.js';
import { primaryFromRequest } from '../../src/cache/cache-key.js';

const invalidation = suite('invalidation (RFC 9111 §4.4)');

invalidation('unsafe and unknown methods with 2xx/3xx invalidate; safe methods and errors do not', () => {
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'M-SEARCH', 'FOO']) assert.ok(invalidatesCache(m, 200), m);
  assert.ok(invalidatesCache('POST', 303));
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) assert.not.ok(invalidatesCache(m, 200), m);
  assert.not.ok(invalidatesCache('POST', 404));
  assert.not.ok(invalidatesCache('POST', 500));
  assert.not.ok(invalidatesCache('POST', 101));
});

invalidation('targets: the request URI plus same-origin Location and Content-Location', () => {
  const req = request('POST', { host: 'Site.test' }, '/a/b?x=1');
  const resp = response(201, { location: '/created', 'content-location': 'http://site.test/a/b?x=1' });
  assert.equal(invalidationTargets(req, resp), ['site.test/a/b?x=1', 'site.test/created']);
  // the target matches what primaryFromRequest keys a GET by
  assert.is(invalidationTargets(req, resp)[0], primaryFromRequest(request('GET', { host: 'site.test' }, '/a/b?x=1')));
  assert.equal(invalidationTargets(request('PUT', { host: 'site.test' }, '/dir/x'), response(200, { 'content-location': 'y' })), ['site.test/dir/x', 'site.test/dir/y']);
});

invalidation('other origins and bad URIs are not invalidated', () => {
  const req = request('POST', { host: 'site.test' }, '/a');
  assert.equal(invalidationTargets(req, response(200, { location: 'http://other.test/a', 'content-location': 'https://site.test/a' })), ['site.test/a']);
  assert.equal(invalidationTargets(req, response(200, { location: 'http://[bad' })), ['site.test/a']);
  assert.equal(invalidationTargets(req, response(500, { location: '/x' })), []);
  assert.equal(invalidationTargets(request('POST', {}, 'http://abs.test/p'), response(204)), ['abs.test/p']);
});

invalidation.run();
