import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamingBody, CacheWriteClosedError } from '../../src/cache/streaming-body.js';

const body = suite('StreamingBody');

async function collect(s: StreamingBody): Promise<string> {
  let out = '';
  for await (const piece of s.read()) out += piece.toString();
  return out;
}

body('pieces are kept, not copied; toBuffer concatenates once', () => {
  const a = Buffer.from('ab');
  const s = new StreamingBody();
  s.write(a);
  s.write(Buffer.from('cd'));
  assert.is(s.pieces()[0], a);
  assert.is(s.toBuffer(), undefined);
  s.finish();
  const whole = s.toBuffer()!;
  assert.is(whole.toString(), 'abcd');
  assert.is(s.toBuffer(), whole);
  const single = StreamingBody.complete(a);
  assert.is(single.toBuffer(), a);
});

body('many readers follow one writer from the start', async () => {
  const s = new StreamingBody();
  s.write(Buffer.from('1'));
  const readers = [collect(s), collect(s), collect(s)];
  for (const piece of ['2', '3', '4']) {
    await new Promise((r) => setImmediate(r));
    s.write(Buffer.from(piece));
  }
  const late = collect(s);
  s.finish();
  assert.equal(await Promise.all([...readers, late]), ['1234', '1234', '1234', '1234']);
});

body('a reader in the middle survives the merge of toBuffer', async () => {
  const s = new StreamingBody();
  for (const p of ['a', 'b', 'c']) s.write(Buffer.from(p));
  s.finish();
  const it = s.read();
  assert.is((await it.next()).value!.toString(), 'a');
  s.toBuffer();
  let rest = '';
  for (let r = await it.next(); !r.done; r = await it.next()) rest += r.value.toString();
  assert.is(rest, 'bc');
  assert.is(await collect(s), 'abc');
});

body('failure reaches readers; writes after the end are typed errors', async () => {
  const s = new StreamingBody();
  s.write(Buffer.from('x'));
  const reading = collect(s).catch((e: { code: string }) => e.code);
  const whole = s.wholeBody().catch((e: { code: string }) => e.code);
  s.fail('upstream reset');
  assert.is(await reading, 'ERR_CACHE_FILL_FAILED');
  assert.is(await whole, 'ERR_CACHE_FILL_FAILED');
  assert.ok(s.isFailed);
  assert.throws(() => s.write(Buffer.from('y')), (e: CacheWriteClosedError) => e.code === 'ERR_CACHE_WRITE_CLOSED');
  s.finish();
  assert.ok(s.isFailed);
});

body.run();
