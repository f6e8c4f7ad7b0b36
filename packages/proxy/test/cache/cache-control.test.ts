import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCacheControl, deltaSeconds } from '../../src/cache/cache-control.js';
import { parseHttpDate, formatHttpDate } from '../../src/cache/http-date.js';

const parsing = suite('Cache-Control parsing (RFC 9111 §5.2)');

parsing('response directives with arguments', () => {
  const cc = parseCacheControl('public, max-age=60, s-maxage=120, stale-while-revalidate=30, stale-if-error=600, immutable');
  assert.is(cc.public, true);
  assert.is(cc.maxAge, 60);
  assert.is(cc.sMaxAge, 120);
  assert.is(cc.staleWhileRevalidate, 30);
  assert.is(cc.staleIfError, 600);
  assert.is(cc.immutable, true);
  assert.is(cc.noStore, false);
  assert.equal(cc.invalid, []);
});

parsing('names are case-insensitive, OWS and empty elements are skipped', () => {
  const cc = parseCacheControl(' ,NO-STORE ,, Max-Age = 5 ,\tMust-Revalidate');
  assert.is(cc.noStore, true);
  assert.is(cc.maxAge, 5);
  assert.is(cc.mustRevalidate, true);
});

parsing('several field lines combine', () => {
  const cc = parseCacheControl(['max-age=10', 'private', 'proxy-revalidate, no-transform, must-understand']);
  assert.is(cc.maxAge, 10);
  assert.is(cc.private, true);
  assert.is(cc.privateFields, undefined);
  assert.is(cc.proxyRevalidate, true);
  assert.is(cc.noTransform, true);
  assert.is(cc.mustUnderstand, true);
});

parsing('qualified no-cache and private carry lower-cased field lists; quoted commas stay inside', () => {
  const cc = parseCacheControl('no-cache="Set-Cookie, X-Foo", private="Authorization-Info", max-age=3');
  assert.is(cc.noCache, true);
  assert.equal(cc.noCacheFields, ['set-cookie', 'x-foo']);
  assert.is(cc.private, true);
  assert.equal(cc.privateFields, ['authorization-info']);
  assert.is(cc.maxAge, 3);
});

parsing('unqualified no-cache wins over a qualified one in either order', () => {
  assert.is(parseCacheControl('no-cache="a", no-cache').noCacheFields, undefined);
  assert.is(parseCacheControl('no-cache, no-cache="a"').noCacheFields, undefined);
  assert.equal(parseCacheControl('no-cache="a", no-cache="B"').noCacheFields, ['a', 'b']);
});

parsing('invalid max-age means stale (0), RFC 9111 §4.2.1', () => {
  for (const bad of ['max-age=abc', 'max-age=-1', 'max-age=1.5', 'max-age=', 'max-age']) {
    const cc = parseCacheControl(bad);
    assert.is(cc.maxAge, 0, bad);
    assert.equal(cc.invalid, ['max-age'], bad);
  }
});

parsing('duplicate max-age: equal values agree, different values mean stale', () => {
  assert.is(parseCacheControl('max-age=10, max-age=10').maxAge, 10);
  assert.is(parseCacheControl(['max-age=10', 'max-age=20']).maxAge, 0);
  assert.is(parseCacheControl('s-maxage=1, s-maxage=2').sMaxAge, 0);
});

parsing('quoted delta-seconds are tolerated', () => {
  assert.is(parseCacheControl('max-age="30"').maxAge, 30);
});

parsing('an unterminated quoted string is invalid', () => {
  const cc = parseCacheControl('max-age="30');
  assert.is(cc.maxAge, 0);
  assert.ok(cc.invalid.includes('max-age'));
});

parsing('invalid stale-while-revalidate drops the permission', () => {
  assert.is(parseCacheControl('stale-while-revalidate=x').staleWhileRevalidate, undefined);
  assert.is(parseCacheControl('stale-if-error=1, stale-if-error=2').staleIfError, undefined);
});

parsing('request directives', () => {
  const cc = parseCacheControl('max-stale, min-fresh=20, only-if-cached, no-cache, max-age=0');
  assert.is(cc.maxStale, Infinity);
  assert.is(cc.minFresh, 20);
  assert.is(cc.onlyIfCached, true);
  assert.is(cc.noCache, true);
  assert.is(cc.maxAge, 0);
  assert.is(parseCacheControl('max-stale=50').maxStale, 50);
});

parsing('unknown directives are kept as extensions', () => {
  const cc = parseCacheControl('community="UCI", foo, max-age=1');
  assert.equal([...(cc.extensions ?? new Map())], [['community', 'UCI'], ['foo', '']]);
  assert.is(cc.maxAge, 1);
});

parsing('garbage after an argument makes the element invalid but not the rest', () => {
  const cc = parseCacheControl('max-age=10 junk, no-store');
  assert.is(cc.maxAge, 0);
  assert.is(cc.noStore, true);
});

parsing('absent field: nothing set', () => {
  const cc = parseCacheControl(undefined);
  assert.is(cc.maxAge, undefined);
  assert.is(cc.noCache, false);
});

const delta = suite('delta-seconds (RFC 9111 §1.2.2)');

delta('digits only, capped at 2^31', () => {
  assert.is(deltaSeconds('0'), 0);
  assert.is(deltaSeconds('007'), 7);
  assert.is(deltaSeconds('2147483647'), 2147483647);
  assert.is(deltaSeconds('2147483649'), 2147483648);
  assert.is(deltaSeconds('99999999999999999999'), 2147483648);
  assert.ok(Number.isNaN(deltaSeconds('+1')));
  assert.ok(Number.isNaN(deltaSeconds(' 1')));
});

const dates = suite('HTTP-date (RFC 9110 §5.6.7)');

dates('the three formats of the RFC example give the same instant', () => {
  const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
  assert.is(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), expected);
  assert.is(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), expected);
  assert.is(parseHttpDate('Sun Nov  6 08:49:37 1994'), expected);
});

dates('invalid dates are NaN', () => {
  for (const bad of ['0', '-1', '', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', 'Sun, 06 Xyz 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 UTC']) {
    assert.ok(Number.isNaN(parseHttpDate(bad)), bad);
  }
  assert.ok(Number.isNaN(parseHttpDate(undefined)));
});

dates('format round-trips', () => {
  const ms = Date.UTC(2024, 0, 2, 3, 4, 5);
  assert.is(formatHttpDate(ms), 'Tue, 02 Jan 2024 03:04:05 GMT');
  assert.is(parseHttpDate(formatHttpDate(ms)), ms);
});

parsing.run();
delta.run();
dates.run();
