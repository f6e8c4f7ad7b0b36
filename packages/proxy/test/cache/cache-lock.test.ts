import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheKey } from '../../src/cache/cache-key.js';
import { CacheLock, ReadLock, WritePermit, type LockOutcome } from '../../src/cache/cache-lock.js';
import { StreamingBody } from '../../src/cache/streaming-body.js';
import { testMeta } from '../../src/cache/storage-compliance.js';

const lock = suite('CacheLock');
const key = new CacheKey('ns', 'h/a');

function status(o: LockOutcome | Promise<LockOutcome>): Promise<string> {
  return Promise.resolve(o).then((x) => x.status);
}

lock('one writer per key; others read; other keys and variants lock separately', () => {
  const l = new CacheLock();
  const w = l.lock(key);
  assert.instance(w, WritePermit);
  assert.instance(l.lock(key), ReadLock);
  assert.instance(l.lock(new CacheKey('ns', 'h/b')), WritePermit);
  assert.instance(l.lock(key.withVariance('x:1\n')), WritePermit);
  assert.is(l.size, 3);
});

lock('readers learn the release status; the key is free again', async () => {
  for (const s of ['done', 'give-up', 'transient-error'] as const) {
    const l = new CacheLock();
    const w = l.lock(key) as WritePermit;
    const readers = [l.lock(key) as ReadLock, l.lock(key) as ReadLock].map((r) => status(r.wait()));
    w.release(s);
    assert.equal(await Promise.all(readers), [s, s]);
    assert.is(l.size, 0);
    assert.instance(l.lock(key), WritePermit);
  }
});

lock('a reader waiting too long times out and goes upstream; the writer still holds the lock', async () => {
  const l = new CacheLock({ timeoutMs: 20 });
  const w = l.lock(key) as WritePermit;
  const r = l.lock(key) as ReadLock;
  assert.is(await status(r.wait()), 'timeout');
  assert.not.ok(w.released);
  assert.instance(l.lock(key), ReadLock);
  w.release('done');
});

lock('after a writer failure one reader becomes the next writer', async () => {
  const l = new CacheLock();
  const w = l.lock(key) as WritePermit;
  const r1 = l.lock(key) as ReadLock;
  const r2 = l.lock(key) as ReadLock;
  const outcomes = Promise.all([r1.wait(), r2.wait()]);
  w.release('transient-error');
  await outcomes;
  const next = [l.lock(key), l.lock(key)];
  assert.instance(next[0], WritePermit);
  assert.instance(next[1], ReadLock);
});

lock('release is idempotent; `using` releases a forgotten permit as a failure', async () => {
  const l = new CacheLock();
  let reader: ReadLock;
  {
    using w = l.lock(key) as WritePermit;
    reader = l.lock(key) as ReadLock;
    assert.not.ok(w.released);
  }
  assert.is(await status(reader.wait()), 'transient-error');
  const w2 = l.lock(key) as WritePermit;
  const r2 = l.lock(key) as ReadLock;
  w2.release('done');
  w2.release('give-up');
  assert.is(await status(r2.wait()), 'done');
  assert.is(l.size, 0);
});

lock('a writer that never releases goes dangling after maxLockAgeMs', async () => {
  const l = new CacheLock({ maxLockAgeMs: 20, timeoutMs: 1000 });
  const w = l.lock(key) as WritePermit;
  const r = l.lock(key) as ReadLock;
  assert.is(await status(r.wait()), 'dangling');
  assert.ok(w.released);
  assert.is(l.size, 0);
  w.release('done'); // late release of an expired permit changes nothing
  assert.instance(l.lock(key), WritePermit);
});

lock('readers follow a fill in progress once the writer publishes it', async () => {
  const l = new CacheLock();
  const w = l.lock(key) as WritePermit;
  const early = (l.lock(key) as ReadLock).wait();
  const body = new StreamingBody();
  w.publish({ meta: testMeta({ etag: '"1"' }), body });
  const late = (l.lock(key) as ReadLock).wait();
  assert.not.instance(late, Promise); // known outcome, returned directly
  const texts = [early, late].map(async (o) => {
    const outcome = await o;
    assert.is(outcome.status, 'filling');
    if (outcome.status !== 'filling') return '';
    assert.is(outcome.hit.meta.response.headers.get('etag'), '"1"');
    let text = '';
    for await (const piece of outcome.hit.body.read()) text += piece.toString();
    return text;
  });
  body.write(Buffer.from('streamed '));
  await new Promise((r) => setImmediate(r));
  body.write(Buffer.from('body'));
  body.finish();
  w.release('done');
  assert.equal(await Promise.all(texts), ['streamed body', 'streamed body']);
});

lock('invalid options are typed errors', () => {
  assert.throws(() => new CacheLock({ timeoutMs: 0 }), (e: { code: string }) => e.code === 'ERR_CACHE_INVALID_OPTION');
  assert.throws(() => new CacheLock({ maxLockAgeMs: NaN }), (e: { code: string }) => e.code === 'ERR_CACHE_INVALID_OPTION');
});

lock.run();
