// The compliance suite every `Storage` runs (ARCHITECTURE.md: a seam users implement ships the tests
// that check it). Import it in a uvu test file and call `.run()` on the result; it needs uvu.
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { ResponseHeader } from '@sluice/core';
import { CacheKey } from './cache-key.js';
import type { CacheMeta, Storage } from './storage.js';

/** What {@link storageCompliance} needs. */
export interface StorageComplianceOptions {
  /** Makes an empty storage with room for at least a few MiB; called once per test. */
  create(): Storage | Promise<Storage>;
  /** Bound on every wait in the suite. Default 2000 ms. */
  timeoutMs?: number;
}

function bounded<T>(value: T | Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(value), limit]).finally(() => clearTimeout(timer));
}

/** A CacheMeta for a 200 with `fields`, fresh for `lifetimeMs`. */
export function testMeta(fields: Record<string, string> = {}, variance?: string, varyFields: readonly string[] = []): CacheMeta {
  const response = new ResponseHeader(200);
  for (const [name, value] of Object.entries(fields)) response.headers.append(name, value);
  const now = Date.now();
  return { response, varyFields, variance, requestTimeMs: now, responseTimeMs: now, correctedInitialAgeMs: 0, freshnessLifetimeMs: 60_000 };
}

/**
 * Registers the tests every {@link Storage} must pass: store and find a body byte for byte, a fill
 * visible while in progress and followable to its end, abort hiding the entry and failing its
 * readers, variants found exactly and the latest one without a variance, purge of one variant or
 * all, updateMeta after a 304, and keys that differ only in namespace kept apart.
 */
export function storageCompliance(name: string, options: StorageComplianceOptions): Test {
  const test = suite(`Storage compliance: ${name}`);
  const ms = options.timeoutMs ?? 2000;
  const create = () => bounded(options.create(), ms, 'create()');
  const store = async (storage: Storage, key: CacheKey, meta: CacheMeta, pieces: string[]) => {
    const handler = await bounded(storage.getMissHandler(key, meta), ms, 'getMissHandler()');
    for (const piece of pieces) await bounded(handler.write(Buffer.from(piece)), ms, 'write()');
    return bounded(handler.finish(), ms, 'finish()');
  };
  const bodyOf = async (storage: Storage, key: CacheKey) => {
    const hit = await bounded(storage.lookup(key), ms, 'lookup()');
    if (hit === undefined) return undefined;
    return (await bounded(hit.body.wholeBody(), ms, 'wholeBody()')).toString();
  };

  test('a miss finds nothing', async () => {
    const storage = await create();
    assert.is(await bounded(storage.lookup(new CacheKey('ns', 'h/none')), ms, 'lookup()'), undefined);
  });

  test('a stored body and meta come back byte for byte', async () => {
    const storage = await create();
    const key = new CacheKey('ns', 'h/a');
    assert.is(await store(storage, key, testMeta({ 'content-type': 'text/plain', etag: '"1"' }), ['hello ', '', 'world']), true);
    const hit = await bounded(storage.lookup(key), ms, 'lookup()');
    assert.ok(hit);
    assert.is(hit.meta.response.status, 200);
    assert.is(hit.meta.response.headers.get('etag'), '"1"');
    assert.ok(hit.body.isComplete);
    assert.is((await hit.body.wholeBody()).toString(), 'hello world');
    const binary = Buffer.from([0, 255, 13, 10, 128]);
    const handler = await storage.getMissHandler(new CacheKey('ns', 'h/bin'), testMeta());
    await handler.write(binary);
    await handler.finish();
    assert.equal([...(await storage.lookup(new CacheKey('ns', 'h/bin')))!.body.toBuffer()!], [...binary]);
  });

  test('a fill in progress is visible and followable to its end', async () => {
    const storage = await create();
    const key = new CacheKey('ns', 'h/fill');
    const handler = await storage.getMissHandler(key, testMeta());
    await handler.write(Buffer.from('one,'));
    const hit = await bounded(storage.lookup(key), ms, 'lookup()');
    assert.ok(hit, 'visible while filling');
    assert.not.ok(hit.body.isComplete);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const piece of hit.body.read()) seen.push(piece.toString());
    })();
    await new Promise((r) => setTimeout(r, 5));
    await handler.write(Buffer.from('two,'));
    await handler.write(Buffer.from('three'));
    await handler.finish();
    await bounded(reading, ms, 'reader');
    assert.is(seen.join(''), 'one,two,three');
    assert.is(await bodyOf(storage, key), 'one,two,three');
  });

  test('abort hides the entry and fails its followers', async () => {
    const storage = await create();
    const key = new CacheKey('ns', 'h/abort');
    const handler = await storage.getMissHandler(key, testMeta());
    await handler.write(Buffer.from('partial'));
    const hit = await storage.lookup(key);
    assert.ok(hit);
    const waiting = hit.body.wholeBody().then(() => 'resolved', (error: { code?: string }) => error.code);
    handler.abort('upstream reset');
    assert.is(await bounded(waiting, ms, 'follower'), 'ERR_CACHE_FILL_FAILED');
    assert.is(await storage.lookup(key), undefined);
  });

  test('variants: exact lookups, and the latest without a variance', async () => {
    const storage = await create();
    const base = new CacheKey('ns', 'h/v');
    const gzip = base.withVariance('accept-encoding:gzip\n');
    const br = base.withVariance('accept-encoding:br\n');
    await store(storage, gzip, testMeta({}, gzip.variance, ['accept-encoding']), ['gzip body']);
    await store(storage, br, testMeta({}, br.variance, ['accept-encoding']), ['br body']);
    assert.is(await bodyOf(storage, gzip), 'gzip body');
    assert.is(await bodyOf(storage, br), 'br body');
    const any = await storage.lookup(base);
    assert.ok(any);
    assert.equal(any.meta.varyFields, ['accept-encoding']);
    assert.is(any.meta.variance, br.variance);
    assert.is(await bodyOf(storage, base.withVariance('accept-encoding:zstd\n')), undefined);
  });

  test('purge one variant, then all', async () => {
    const storage = await create();
    const base = new CacheKey('ns', 'h/p');
    const a = base.withVariance('x:a\n');
    const b = base.withVariance('x:b\n');
    await store(storage, a, testMeta({}, a.variance, ['x']), ['a']);
    await store(storage, b, testMeta({}, b.variance, ['x']), ['b']);
    assert.is(await storage.purge(a, 'variant'), true);
    assert.is(await storage.lookup(a), undefined);
    assert.is(await bodyOf(storage, b), 'b');
    assert.is(await storage.purge(a, 'variant'), false);
    assert.is(await storage.purge(base, 'all'), true);
    assert.is(await storage.lookup(b), undefined);
    assert.is(await storage.lookup(base), undefined);
    assert.is(await storage.purge(base, 'all'), false);
  });

  test('updateMeta replaces the meta of a stored entry only', async () => {
    const storage = await create();
    const key = new CacheKey('ns', 'h/u');
    assert.is(await storage.updateMeta(key, testMeta()), false);
    await store(storage, key, testMeta({ 'cache-control': 'max-age=1' }), ['body']);
    const updated = testMeta({ 'cache-control': 'max-age=100' });
    assert.is(await storage.updateMeta(key, updated), true);
    const hit = await storage.lookup(key);
    assert.is(hit!.meta.response.headers.get('cache-control'), 'max-age=100');
    assert.is(await bodyOf(storage, key), 'body');
  });

  test('a second store replaces the first', async () => {
    const storage = await create();
    const key = new CacheKey('ns', 'h/r');
    await store(storage, key, testMeta(), ['old']);
    await store(storage, key, testMeta(), ['new']);
    assert.is(await bodyOf(storage, key), 'new');
  });

  test('namespaces keep equal primaries apart', async () => {
    const storage = await create();
    await store(storage, new CacheKey('one', 'h/same'), testMeta(), ['1']);
    await store(storage, new CacheKey('two', 'h/same'), testMeta(), ['2']);
    assert.is(await bodyOf(storage, new CacheKey('one', 'h/same')), '1');
    assert.is(await bodyOf(storage, new CacheKey('two', 'h/same')), '2');
  });

  return test;
}
