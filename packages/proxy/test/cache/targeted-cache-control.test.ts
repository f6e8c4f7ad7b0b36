import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request, response } from './fields.js';
import { responseCacheControl, surrogateCapability } from '../../src/cache/targeted-cache-control.js';
import { freshnessLifetimeMs } from '../../src/cache/freshness.js';
import { responseCacheable } from '../../src/cache/cacheability.js';
import { formatHttpDate } from '../../src/cache/http-date.js';

const NOW = Date.UTC(2024, 0, 1);
const targeted = suite('targeted cache control (Surrogate-Control, RFC 9213)');
const lifetime = (fields: Record<string, string>, options = {}) => {
  const resp = response(200, fields);
  return freshnessLifetimeMs(resp, responseCacheControl(resp, options), NOW, options);
};

targeted('Surrogate-Control replaces Cache-Control and Expires for this cache', () => {
  assert.is(lifetime({ 'cache-control': 'max-age=1', 'surrogate-control': 'max-age=3600' }), 3_600_000);
  assert.is(lifetime({ 'cache-control': 'max-age=3600', 'surrogate-control': 'max-age=1' }), 1000);
  assert.is(lifetime({ 'surrogate-control': 'max-age=0', expires: formatHttpDate(NOW + 10_000), date: formatHttpDate(NOW) }), 0);
  assert.is(lifetime({ 'surrogate-control': 'max-age=3600', expires: '0' }), 3_600_000);
  assert.is(lifetime({ 'surrogate-control': 'foobar, MaX-aGe=3600' }), 3_600_000);
  assert.ok(responseCacheControl(response(200, { 'surrogate-control': 'max-age=1' })).targeted);
  assert.not.ok(responseCacheControl(response(200, { 'cache-control': 'max-age=1' })).targeted);
});

targeted('device-token targeting: ours applies, another device\'s is ignored', () => {
  assert.is(lifetime({ 'surrogate-control': 'max-age=3600;sluice' }), 3_600_000);
  assert.is(lifetime({ 'surrogate-control': 'max-age=3600;edge-7' }, { deviceToken: 'Edge-7' }), 3_600_000);
  // only another device's directive: Cache-Control applies
  assert.is(lifetime({ 'surrogate-control': 'max-age=3600;not-for-you', 'cache-control': 'max-age=5' }), 5000);
  assert.is(lifetime({ 'surrogate-control': 'max-age=3600;not-for-you' }), 0);
  assert.is(lifetime({ 'surrogate-control': 'no-store;other, max-age=60' }), 60_000);
});

targeted('storage decisions follow the targeted field', () => {
  const nostore = responseCacheable(request('GET'), response(200, { 'cache-control': 'max-age=10000', 'surrogate-control': 'no-store', expires: formatHttpDate(NOW + 1e7) }));
  assert.is(nostore.cacheable ? 'cacheable' : nostore.reason, 'no-store');
  const stored = responseCacheable(request('GET'), response(200, { 'cache-control': 'no-store', 'surrogate-control': 'max-age=10000;sluice' }));
  assert.ok(stored.cacheable);
});

targeted('RFC 9213 CDN-Cache-Control when enabled, in the configured precedence; off means Cache-Control only', () => {
  const fields = { 'cache-control': 'max-age=10', 'cdn-cache-control': 'max-age=20', 'surrogate-control': 'max-age=30' };
  assert.is(lifetime(fields), 30_000);
  assert.is(lifetime(fields, { targetedFields: ['cdn-cache-control', 'surrogate-control'] }), 20_000);
  assert.is(lifetime(fields, { targetedFields: [] }), 10_000);
});

targeted('quoted commas and semicolons stay inside their directive', () => {
  const cc = responseCacheControl(response(200, { 'surrogate-control': 'ext="a;b, c", max-age=9' }));
  assert.is(cc.maxAge, 9);
  assert.is(cc.extensions?.get('ext'), 'a;b, c');
});

targeted('Surrogate-Capability announces the device token', () => {
  assert.is(surrogateCapability(), 'sluice="Surrogate/1.0"');
  assert.is(surrogateCapability('edge'), 'edge="Surrogate/1.0"');
});

targeted.run();
