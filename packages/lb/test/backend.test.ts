import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Backend, fnv1a32, LbError } from '../src/index.js';

const backend = suite('Backend');

backend('keeps addr, weight and ext; id is addr#weight', () => {
  const ext = new Map<unknown, unknown>([['zone', 'a']]);
  const b = new Backend('10.0.0.1:80', 3, ext);
  assert.is(b.addr, '10.0.0.1:80');
  assert.is(b.weight, 3);
  assert.is(b.ext, ext);
  assert.is(b.id, '10.0.0.1:80#3');
  assert.equal(b.address, { host: '10.0.0.1', port: 80 });
  assert.is(new Backend('unix:/run/app.sock').id, 'unix:/run/app.sock#1');
  assert.equal(new Backend('[::1]:8080').address, { host: '::1', port: 8080 });
});

backend('hashKey is stable and depends on address and weight only', () => {
  const a = new Backend('10.0.0.1:80', 1, new Map([['x', 1]]));
  const b = new Backend('10.0.0.1:80', 1);
  assert.is(a.hashKey, b.hashKey);
  assert.is(a.hashKey, fnv1a32('10.0.0.1:80#1'));
  assert.is.not(a.hashKey, new Backend('10.0.0.1:80', 2).hashKey);
});

backend('orders by address then weight', () => {
  const list = [new Backend('b:1', 1), new Backend('a:1', 2), new Backend('a:1', 1)].sort(Backend.compare);
  assert.equal(list.map((b) => b.id), ['a:1#1', 'a:1#2', 'b:1#1']);
});

backend('bad addresses throw ERR_LB_INVALID_ADDRESS naming the address', () => {
  for (const addr of ['10.0.0.1', 'host:', ':80', '10.0.0.1:99999', '']) {
    try {
      new Backend(addr);
      assert.unreachable(`${addr} accepted`);
    } catch (e) {
      assert.instance(e, LbError);
      assert.is((e as LbError).code, 'ERR_LB_INVALID_ADDRESS');
      assert.match((e as Error).message, JSON.stringify(addr));
    }
  }
});

backend('bad weights throw ERR_LB_INVALID_WEIGHT', () => {
  for (const w of [0, -1, 1.5, NaN, 65_536]) {
    try {
      new Backend('10.0.0.1:80', w);
      assert.unreachable(`${w} accepted`);
    } catch (e) {
      assert.is((e as LbError).code, 'ERR_LB_INVALID_WEIGHT');
      assert.match((e as Error).message, '10.0.0.1:80');
    }
  }
});

const fnv = suite('fnv1a32');

fnv('matches the published FNV-1a 32-bit test vectors', () => {
  assert.is(fnv1a32(''), 0x811c9dc5);
  assert.is(fnv1a32('a'), 0xe40c292c);
  assert.is(fnv1a32('foobar'), 0xbf9cf968);
});

fnv('hashes a string as its UTF-8 bytes, lone surrogates as U+FFFD', () => {
  for (const s of ['/ascii/path?q=1', 'café', '日本語', '😀 emoji', 'lone \ud800 surrogate', '\udc00x']) {
    assert.is(fnv1a32(s), fnv1a32(Buffer.from(s, 'utf8')), s);
  }
});

backend.run();
fnv.run();
