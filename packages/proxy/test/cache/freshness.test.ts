import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ResponseHeader } from '@sluice/core';
import { response } from './fields.js';
import { parseCacheControl } from '../../src/cache/cache-control.js';
import { formatHttpDate } from '../../src/cache/http-date.js';
import {
  freshnessLifetimeMs, hasExplicitFreshness, ageValueSeconds, correctedInitialAgeMs, currentAgeMs,
  ageFieldValue, freshnessVerdict, staleForbidden, mayServeStale,
} from '../../src/cache/freshness.js';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);

function lifetime(resp: ResponseHeader, options = {}): number {
  return freshnessLifetimeMs(resp, parseCacheControl(resp.headers.getAll('cache-control')), NOW, options);
}

const lifetimeSuite = suite('freshness lifetime (RFC 9111 §4.2.1)');

lifetimeSuite('s-maxage beats max-age in a shared cache only', () => {
  const resp = response(200, { 'cache-control': 'max-age=10, s-maxage=100' });
  assert.is(lifetime(resp), 100_000);
  assert.is(lifetime(resp, { shared: false }), 10_000);
});

lifetimeSuite('max-age beats Expires', () => {
  const resp = response(200, { 'cache-control': 'max-age=10', date: formatHttpDate(NOW), expires: formatHttpDate(NOW + 3_600_000) });
  assert.is(lifetime(resp), 10_000);
});

lifetimeSuite('Expires − Date, and Expires − response time without Date', () => {
  assert.is(lifetime(response(200, { date: formatHttpDate(NOW - 60_000), expires: formatHttpDate(NOW + 60_000) })), 120_000);
  assert.is(lifetime(response(200, { expires: formatHttpDate(NOW + 30_000) })), 30_000);
});

lifetimeSuite('invalid Expires ("0") is already expired, RFC 9111 §5.3', () => {
  assert.is(lifetime(response(200, { expires: '0', 'last-modified': formatHttpDate(NOW - 1e9) })), 0);
});

lifetimeSuite('disagreeing duplicate Expires: stale', () => {
  assert.is(lifetime(response(200, { expires: [formatHttpDate(NOW + 10_000), formatHttpDate(NOW + 20_000)] })), 0);
});

lifetimeSuite('Expires in the past: 0', () => {
  assert.is(lifetime(response(200, { date: formatHttpDate(NOW), expires: formatHttpDate(NOW - 1000) })), 0);
});

lifetimeSuite('heuristic: 10% of Date − Last-Modified for heuristically cacheable statuses, capped', () => {
  const lm = formatHttpDate(NOW - 10_000_000_000);
  assert.is(lifetime(response(200, { date: formatHttpDate(NOW), 'last-modified': formatHttpDate(NOW - 100_000) })), 10_000);
  assert.is(lifetime(response(404, { date: formatHttpDate(NOW), 'last-modified': lm })), 86_400_000);
  assert.is(lifetime(response(200, { date: formatHttpDate(NOW), 'last-modified': lm }), { heuristicMaxMs: 5000 }), 5000);
  // 302 is not heuristically cacheable, unless public
  assert.is(lifetime(response(302, { date: formatHttpDate(NOW), 'last-modified': lm })), 0);
  assert.is(lifetime(response(302, { 'cache-control': 'public', date: formatHttpDate(NOW), 'last-modified': lm })), 86_400_000);
  assert.is(lifetime(response(200, { date: formatHttpDate(NOW), 'last-modified': lm }), { heuristicFraction: 0 }), 0);
});

lifetimeSuite('default TTL per status when nothing else applies', () => {
  const ttl = (status: number) => (status === 200 ? 5000 : status === 404 ? 1000 : 0);
  assert.is(lifetime(response(200, {}), { defaultTtlMs: ttl }), 5000);
  assert.is(lifetime(response(404, {}), { defaultTtlMs: ttl }), 1000);
  assert.is(lifetime(response(500, {}), { defaultTtlMs: ttl }), 0);
  assert.is(lifetime(response(200, { 'cache-control': 'max-age=2' }), { defaultTtlMs: ttl }), 2000);
});

lifetimeSuite('unqualified no-cache wins over max-age (most restrictive, §4.2.1)', () => {
  assert.is(lifetime(response(200, { 'cache-control': 'max-age=100, no-cache' })), 0);
  assert.is(lifetime(response(200, { 'cache-control': 'max-age=100, no-cache="set-cookie"' })), 100_000);
});

lifetimeSuite('explicit freshness detection', () => {
  const r = response(200, { expires: 'garbage' });
  assert.ok(hasExplicitFreshness(r, parseCacheControl(undefined)));
  assert.ok(!hasExplicitFreshness(response(200, {}), parseCacheControl('s-maxage=1'), false));
  assert.ok(hasExplicitFreshness(response(200, {}), parseCacheControl('s-maxage=1')));
});

const age = suite('age (RFC 9111 §4.2.3, §5.1)');

age('Age field, strict (default): anything but one delta-seconds is stale', () => {
  const STALE = 2147483648;
  assert.is(ageValueSeconds(response(200, { age: '30' })), 30);
  assert.is(ageValueSeconds(response(200, { age: ' 30 ' })), 30);
  assert.is(ageValueSeconds(response(200, {})), 0);
  for (const bad of ['abc', '-7200', '7200.0', '0,7200', '0, 0', '7200;foo=bar', '']) {
    assert.is(ageValueSeconds(response(200, { age: bad })), STALE, bad);
  }
  assert.is(ageValueSeconds(response(200, { age: ['0', '0'] })), STALE);
  // a stale Age makes the entry stale at once
  const resp = response(200, { age: 'abc', date: formatHttpDate(NOW) });
  assert.ok(correctedInitialAgeMs(resp, NOW, NOW) > 3_600_000);
});

age('Age field, first-member (RFC 9111 §5.1 literally): first member, invalid ignored', () => {
  const read = (age: string | string[]) => ageValueSeconds(response(200, { age }), 'first-member');
  assert.is(read('30'), 30);
  assert.is(read('30, 40'), 30);
  assert.is(read(['30', '40']), 30);
  assert.is(read('-5'), 0);
  assert.is(read('abc'), 0);
  assert.is(correctedInitialAgeMs(response(200, { age: 'abc', date: formatHttpDate(NOW) }), NOW, NOW, 'first-member'), 0);
});

age('corrected initial age: max(apparent age, Age + response delay)', () => {
  // Date 10 s before the response arrived; Age 3 s; the request took 2 s.
  const resp = response(200, { date: formatHttpDate(NOW - 10_000), age: '3' });
  assert.is(correctedInitialAgeMs(resp, NOW - 2000, NOW), 10_000);
  const resp2 = response(200, { date: formatHttpDate(NOW), age: '60' });
  assert.is(correctedInitialAgeMs(resp2, NOW - 2000, NOW), 62_000);
  // a Date in the future does not make the age negative
  const resp3 = response(200, { date: formatHttpDate(NOW + 50_000) });
  assert.is(correctedInitialAgeMs(resp3, NOW, NOW), 0);
});

age('current age adds resident time; Age field in whole seconds', () => {
  assert.is(currentAgeMs(5000, NOW, NOW + 7000), 12_000);
  assert.is(currentAgeMs(5000, NOW, NOW - 7000), 5000);
  assert.is(ageFieldValue(12_999), '12');
  assert.is(ageFieldValue(-1), '0');
  assert.is(ageFieldValue(1e15), '2147483648');
});

const verdict = suite('freshness verdict with request directives (RFC 9111 §5.2.1)');
const none = parseCacheControl(undefined);

verdict('fresh while lifetime > age', () => {
  assert.is(freshnessVerdict(10_000, 9_999, none, none), 'fresh');
  assert.is(freshnessVerdict(10_000, 10_000, none, none), 'stale');
});

verdict('request no-cache and max-age=0 force revalidation', () => {
  assert.is(freshnessVerdict(10_000, 1, none, parseCacheControl('no-cache')), 'stale');
  assert.is(freshnessVerdict(10_000, 1, none, parseCacheControl('max-age=0')), 'stale');
  assert.is(freshnessVerdict(10_000, 1000, none, parseCacheControl('max-age=1')), 'fresh');
});

verdict('min-fresh demands remaining freshness', () => {
  assert.is(freshnessVerdict(10_000, 5000, none, parseCacheControl('min-fresh=6')), 'stale');
  assert.is(freshnessVerdict(10_000, 5000, none, parseCacheControl('min-fresh=5')), 'fresh');
});

verdict('max-stale accepts staleness unless must-revalidate', () => {
  assert.is(freshnessVerdict(10_000, 15_000, none, parseCacheControl('max-stale=5')), 'fresh');
  assert.is(freshnessVerdict(10_000, 15_001, none, parseCacheControl('max-stale=5')), 'stale');
  assert.is(freshnessVerdict(10_000, 1e9, none, parseCacheControl('max-stale')), 'fresh');
  assert.is(freshnessVerdict(10_000, 15_000, parseCacheControl('must-revalidate'), parseCacheControl('max-stale')), 'stale');
});

const stale = suite('serving stale (RFC 9111 §4.2.4, RFC 5861)');

stale('forbidden by must-revalidate, no-cache, and in shared caches proxy-revalidate / s-maxage', () => {
  assert.ok(staleForbidden(parseCacheControl('must-revalidate')));
  assert.ok(staleForbidden(parseCacheControl('no-cache')));
  assert.ok(!staleForbidden(parseCacheControl('no-cache="x"')));
  assert.ok(staleForbidden(parseCacheControl('proxy-revalidate')));
  assert.ok(!staleForbidden(parseCacheControl('proxy-revalidate'), false));
  assert.ok(staleForbidden(parseCacheControl('s-maxage=5')));
  assert.ok(!staleForbidden(parseCacheControl('max-age=5')));
});

stale('stale-while-revalidate window', () => {
  const cc = parseCacheControl('max-age=1, stale-while-revalidate=10');
  assert.ok(mayServeStale('revalidating', 10_000, cc, none));
  assert.not.ok(mayServeStale('revalidating', 10_001, cc, none));
  assert.not.ok(mayServeStale('error', 1, cc, none));
  assert.not.ok(mayServeStale('revalidating', 1, parseCacheControl('max-age=1, stale-while-revalidate=10, must-revalidate'), none));
});

stale('stale-if-error window; the request can set its own', () => {
  const cc = parseCacheControl('max-age=1, stale-if-error=60');
  assert.ok(mayServeStale('error', 60_000, cc, none));
  assert.not.ok(mayServeStale('error', 60_001, cc, none));
  assert.not.ok(mayServeStale('error', 20_000, cc, parseCacheControl('stale-if-error=10')));
  assert.ok(mayServeStale('error', 100_000, parseCacheControl('max-age=1'), parseCacheControl('stale-if-error=200')));
  assert.not.ok(mayServeStale('error', 1, cc, parseCacheControl('no-cache')));
});

stale('operator defaults apply only without directives', () => {
  const cc = parseCacheControl('max-age=1');
  assert.not.ok(mayServeStale('error', 1, cc, none));
  assert.ok(mayServeStale('error', 5000, cc, none, { defaultStaleIfErrorMs: 5000 }));
  assert.not.ok(mayServeStale('error', 5001, cc, none, { defaultStaleIfErrorMs: 5000 }));
  assert.ok(mayServeStale('revalidating', 10, cc, none, { defaultStaleWhileRevalidateMs: 10 }));
});

lifetimeSuite.run();
age.run();
verdict.run();
stale.run();
