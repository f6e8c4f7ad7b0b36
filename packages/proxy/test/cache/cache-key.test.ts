import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RequestHeader } from '@sluice/core';
import { CacheKey, InvalidCacheKeyError, primaryFromRequest } from '../../src/cache/cache-key.js';

const key = suite('CacheKey');

key('hashes are stable 128-bit hex, deterministic across instances', () => {
  const a = new CacheKey('ns', 'example.com/a?b=1');
  const b = new CacheKey('ns', 'example.com/a?b=1');
  assert.match(a.primaryHash(), /^[0-9a-f]{32}$/);
  assert.is(a.primaryHash(), b.primaryHash());
  assert.is(a.combinedHash(), a.primaryHash());
  assert.is(a.varianceHash(), undefined);
  // pinned: the hash must never change between releases (stored entries would be orphaned)
  assert.is(new CacheKey('', 'x').primaryHash(), '6d6d0ffa8fe1fcf741ef439fdeb5af86');
});

key('namespace and primary are separated unambiguously', () => {
  assert.is.not(new CacheKey('ab', 'c').primaryHash(), new CacheKey('a', 'bc').primaryHash());
  assert.is.not(new CacheKey('ns1', '/a').primaryHash(), new CacheKey('ns2', '/a').primaryHash());
});

key('variance changes the combined hash but not the primary one', () => {
  const base = new CacheKey('ns', 'h/a');
  const gzip = base.withVariance('accept-encoding:gzip\n');
  const br = base.withVariance('accept-encoding:br\n');
  assert.is(gzip.primaryHash(), base.primaryHash());
  assert.is.not(gzip.combinedHash(), br.combinedHash());
  assert.is.not(gzip.combinedHash(), base.combinedHash());
  assert.is(gzip.combinedHash().length, 64);
});

key('an empty primary key is a typed error', () => {
  try {
    new CacheKey('ns', '');
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, InvalidCacheKeyError);
    assert.is((error as InvalidCacheKeyError).code, 'ERR_CACHE_INVALID_KEY');
  }
});

const primary = suite('primaryFromRequest');

primary('Host + origin-form target, host lower-cased, method ignored', () => {
  const get = new RequestHeader('GET', '/a/B?x=1');
  get.headers.append('Host', 'Example.COM');
  const head = new RequestHeader('HEAD', '/a/B?x=1');
  head.headers.append('host', 'example.com');
  assert.is(primaryFromRequest(get), 'example.com/a/B?x=1');
  assert.is(primaryFromRequest(head), primaryFromRequest(get));
});

primary('absolute-form target and missing Host', () => {
  assert.is(primaryFromRequest(new RequestHeader('GET', 'http://Origin:8080/p?q')), 'origin:8080/p?q');
  assert.is(primaryFromRequest(new RequestHeader('GET', 'http://origin')), 'origin/');
  assert.is(primaryFromRequest(new RequestHeader('GET', '/p', '1.0'), 'fallback'), 'fallback/p');
});

key.run();
primary.run();
