import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheKey } from '../../src/cache/cache-key.js';
import { Predictor } from '../../src/cache/predictor.js';

const predictor = suite('Predictor');
const k = (n: number | string) => new CacheKey('ns', `h/${n}`);

predictor('unknown keys are predicted cacheable; marked ones are not, with their reason', () => {
  const p = new Predictor();
  assert.ok(p.cacheablePrediction(k(1)));
  assert.ok(p.markUncacheable(k(1), 'no-store'));
  assert.not.ok(p.cacheablePrediction(k(1)));
  assert.is(p.reasonFor(k(1)), 'no-store');
  // variants share the primary key
  assert.not.ok(p.cacheablePrediction(k(1).withVariance('x:y\n')));
  assert.ok(p.markCacheable(k(1)));
  assert.ok(p.cacheablePrediction(k(1)));
  assert.not.ok(p.markCacheable(k(1)));
});

predictor('request-driven reasons are not remembered by default; configurable', () => {
  const p = new Predictor();
  assert.not.ok(p.markUncacheable(k(1), 'method'));
  assert.not.ok(p.markUncacheable(k(1), 'request-no-store'));
  assert.ok(p.cacheablePrediction(k(1)));
  const q = new Predictor({ skipReasons: new Set(['private']) });
  assert.not.ok(q.markUncacheable(k(1), 'private'));
  assert.ok(q.markUncacheable(k(1), 'method'));
});

predictor('bounded: the least recently used key is forgotten first', () => {
  const p = new Predictor({ capacity: 3 });
  for (const n of [1, 2, 3]) p.markUncacheable(k(n), 'private');
  assert.not.ok(p.cacheablePrediction(k(1))); // uses 1: now 2 is oldest
  p.markUncacheable(k(4), 'private');
  assert.is(p.size, 3);
  assert.ok(p.cacheablePrediction(k(2)));
  for (const n of [1, 3, 4]) assert.not.ok(p.cacheablePrediction(k(n)), String(n));
  for (let n = 10; n < 1000; n++) p.markUncacheable(k(n), 'no-store');
  assert.is(p.size, 3);
});

predictor('invalid capacity is a typed error', () => {
  assert.throws(() => new Predictor({ capacity: 0 }), (e: { code: string }) => e.code === 'ERR_CACHE_INVALID_OPTION');
});

predictor.run();
