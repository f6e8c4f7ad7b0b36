import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Continuum, KetamaError, POINTS_PER_WEIGHT, type Bucket, type BucketAddress } from '../src/index.js';

const ring = (addrs: string[], weight = 1) => new Continuum(addrs.map((addr) => ({ addr, weight })));

function expectError(code: string, run: () => unknown, pattern?: RegExp) {
  try {
    run();
  } catch (error) {
    assert.instance(error, KetamaError);
    assert.is((error as KetamaError).code, code);
    if (pattern) assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

/** Deterministic pseudo-random keys. */
function keys(count: number, seed = 1): string[] {
  const out: string[] = [];
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out.push(`/object/${state.toString(36)}/${i}`);
  }
  return out;
}

// Mappings pingora-ketama publishes as nginx's own answers (pingora-ketama/src/lib.rs tests).
const fixtures = suite('continuum: nginx mappings published with pingora-ketama');

fixtures('two backends, weight 1', () => {
  const c = ring(['127.0.0.1:7777', '127.0.0.1:7778']);
  assert.is(c.node('/some/path'), '127.0.0.1:7778');
  assert.is(c.node('/some/longer/path'), '127.0.0.1:7777');
  assert.is(c.node('/sad/zaidoon'), '127.0.0.1:7778');
  assert.is(c.node('/g'), '127.0.0.1:7777');
  assert.is(c.node('/pingora/team/is/cool/and/this/is/a/long/uri'), '127.0.0.1:7778');
  assert.is(c.node('/i/am/not/confident/in/this/code'), '127.0.0.1:7777');
});

fixtures('adding an eleventh backend keeps keys a and b where they were', () => {
  const ten = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 1}:6443`);
  for (const c of [ring(ten), ring([...ten, '127.0.0.11:6443'])]) {
    assert.is(c.node('a'), '127.0.0.10:6443');
    assert.is(c.node('b'), '127.0.0.5:6443');
  }
});

fixtures('nodeIter order for "doghash", before and after dropping a backend', () => {
  const three = ring(['127.0.0.1:7777', '127.0.0.1:7778', '127.0.0.1:7779']);
  const firstEight = [...three.nodeIter('doghash')].slice(0, 8);
  assert.equal(firstEight, ['7778', '7779', '7779', '7777', '7777', '7778', '7778', '7779'].map((p) => `127.0.0.1:${p}`));
  const two = ring(['127.0.0.1:7777', '127.0.0.1:7779']);
  assert.equal([...two.nodeIter('doghash')].slice(0, 5), ['7779', '7779', '7777', '7777', '7779'].map((p) => `127.0.0.1:${p}`));
});

const points = suite('continuum: points');

points('160 points per unit of weight', () => {
  const weights = [1, 2, 3, 5, 8];
  const addrs = weights.map((_, i) => `10.0.0.${i + 1}:80`);
  const c = new Continuum(addrs.map((addr, i) => ({ addr, weight: weights[i] })));
  assert.is(c.bucketCount, 5);
  // No duplicate hashes among 3040 points here, so every point survives.
  assert.is(c.pointCount, 19 * POINTS_PER_WEIGHT);
  const perBucket = new Map<BucketAddress, number>();
  for (let p = 0; p < c.pointCount; p++) {
    const addr = c.getAddr(p)!;
    perBucket.set(addr, (perBucket.get(addr) ?? 0) + 1);
  }
  addrs.forEach((addr, i) => assert.is(perBucket.get(addr), weights[i] * POINTS_PER_WEIGHT, addr));
});

points('keys spread in proportion to weight', () => {
  const weights = [1, 2, 4];
  const c = new Continuum(weights.map((weight, i) => ({ addr: `192.168.1.${i + 10}:8080`, weight })));
  const counts = [0, 0, 0];
  const sample = keys(70_000);
  for (const key of sample) counts[c.bucketIdx(key)]++;
  weights.forEach((weight, i) => {
    const share = counts[i] / sample.length;
    const expected = weight / 7;
    assert.ok(Math.abs(share - expected) < expected * 0.2, `bucket ${i}: share ${share.toFixed(3)}, expected ${expected.toFixed(3)}`);
  });
});

points('node, nodeIdx, bucketIdx and getAddr agree', () => {
  const c = ring(['10.1.0.1:80', '10.1.0.2:80', '10.1.0.3:80']);
  for (const key of keys(500)) {
    const idx = c.nodeIdx(key);
    assert.ok(idx >= 0 && idx < c.pointCount);
    assert.is(c.getAddr(idx), c.node(key));
    assert.is(c.getAddr(idx + c.pointCount), c.node(key));
    assert.is(['10.1.0.1:80', '10.1.0.2:80', '10.1.0.3:80'][c.bucketIdx(key)], c.node(key));
  }
});

points('the same address twice is one address with both weights (as two nginx peers of one name)', () => {
  const c = new Continuum([
    { addr: '10.0.0.1:80', weight: 1 },
    { addr: '10.0.0.1:80', weight: 1 },
    { addr: '10.0.0.2:80', weight: 1 },
  ]);
  // Both copies produce the same 160 hashes; duplicates are dropped and the first copy keeps them.
  assert.is(c.pointCount, 2 * POINTS_PER_WEIGHT);
  for (const key of keys(300)) assert.ok(c.bucketIdx(key) !== 1);
});

const empty = suite('continuum: empty ring');

empty('answers undefined, -1 and nothing', () => {
  const c = new Continuum([]);
  assert.is(c.pointCount, 0);
  assert.is(c.node('key'), undefined);
  assert.is(c.nodeIdx('key'), -1);
  assert.is(c.bucketIdx(new Uint8Array([1, 2])), -1);
  assert.is(c.getAddr(0), undefined);
  const iterator = c.nodeIter('key');
  assert.equal(iterator.next(), { done: true, value: undefined });
  assert.equal(iterator.next(), { done: true, value: undefined });
  assert.equal([...c.nodeIter('key')], []);
});

const iteration = suite('continuum: nodeIter');

iteration('walks one full lap from node(key), covering every backend', () => {
  const addrs = ['10.2.0.1:80', '10.2.0.2:80', '10.2.0.3:80', '10.2.0.4:80', '10.2.0.5:80'];
  const c = new Continuum(addrs.map((addr, i) => ({ addr, weight: i + 1 })));
  for (const key of keys(50)) {
    const walked = [...c.nodeIter(key)];
    assert.is(walked.length, c.pointCount);
    assert.is(walked[0], c.node(key));
    const start = c.nodeIdx(key);
    for (let step = 0; step < walked.length; step += 97) assert.is(walked[step], c.getAddr(start + step));
    assert.equal(new Set(walked), new Set(addrs));
  }
});

iteration('the iterator reports the point it is at and wraps past the last point', () => {
  const c = ring(['10.3.0.1:80', '10.3.0.2:80']);
  const iterator = c.nodeIter('wrap');
  const start = iterator.idx;
  for (let i = 0; i < c.pointCount - start; i++) iterator.next();
  assert.is(iterator.idx, 0);
  assert.is(iterator.next().value, c.getAddr(0));
});

iteration('a single backend is every answer', () => {
  const c = ring(['127.0.0.1:7777']);
  let seen = 0;
  for (const addr of c.nodeIter('doghash')) {
    assert.is(addr, '127.0.0.1:7777');
    seen++;
  }
  assert.is(seen, POINTS_PER_WEIGHT);
});

const consistency = suite('continuum: consistency');

consistency('removing a backend moves only the keys it served', () => {
  const addrs = Array.from({ length: 8 }, (_, i) => `172.16.0.${i + 1}:443`);
  const before = new Continuum(addrs.map((addr, i) => ({ addr, weight: 1 + (i % 3) })));
  const removed = addrs[3];
  const after = new Continuum(addrs.filter((a) => a !== removed).map((addr) => ({ addr, weight: 1 + (addrs.indexOf(addr) % 3) })));
  let moved = 0;
  for (const key of keys(20_000)) {
    const was = before.node(key);
    const now = after.node(key);
    if (was === removed) {
      moved++;
      assert.is.not(now, removed);
      // The key goes where nodeIter sent it next: the first other backend clockwise.
      for (const next of before.nodeIter(key)) {
        if (next !== removed) {
          assert.is(now, next);
          break;
        }
      }
    } else assert.is(now, was, key);
  }
  assert.ok(moved > 1000, `only ${moved} keys were on the removed backend`);
});

consistency('adding a backend moves keys only onto it', () => {
  const addrs = Array.from({ length: 6 }, (_, i) => `172.17.0.${i + 1}:443`);
  const before = ring(addrs);
  const after = ring([...addrs, '172.17.0.99:443']);
  let moved = 0;
  for (const key of keys(20_000)) {
    const now = after.node(key);
    if (now !== before.node(key)) {
      moved++;
      assert.is(now, '172.17.0.99:443');
    }
  }
  assert.ok(moved > 1500 && moved < 4500, `${moved} of 20000 keys moved to the seventh backend`);
});

const keyTypes = suite('continuum: string and byte keys');

keyTypes('a string and its UTF-8 bytes pick the same point', () => {
  const c = ring(['10.4.0.1:80', '10.4.0.2:80', '10.4.0.3:80']);
  for (const key of [...keys(300), '/caf\u00e9', '/日本/語', '/😀?q=1', '']) {
    assert.is(c.nodeIdx(Buffer.from(key)), c.nodeIdx(key), key);
    assert.is(c.nodeIdx(new Uint8Array(Buffer.from(key))), c.nodeIdx(key), key);
  }
});

const addresses = suite('continuum: addresses');

addresses('socket address objects hash as ip:port, IPv6 bracketed and compressed', () => {
  const objects = new Continuum([
    { addr: { address: '10.5.0.1', port: 80 }, weight: 1 },
    { addr: { address: '0:0:0:0:0:0:0:1', port: 8080 }, weight: 2 },
    { addr: { address: '2001:DB8:0:0:1:0:0:1', port: 443 }, weight: 1 },
  ]);
  const strings = new Continuum([
    { addr: '10.5.0.1:80', weight: 1 },
    { addr: '[::1]:8080', weight: 2 },
    { addr: '[2001:db8::1:0:0:1]:443', weight: 1 },
  ]);
  for (const key of keys(2000)) assert.is(objects.bucketIdx(key), strings.bucketIdx(key), key);
});

addresses('node() answers with the very address given', () => {
  const a = { address: '10.6.0.1', port: 80, tag: 'a' };
  const b = { address: '10.6.0.2', port: 80, tag: 'b' };
  const c = new Continuum<typeof a>([
    { addr: a, weight: 1 },
    { addr: b, weight: 1 },
  ]);
  const seen = new Set(keys(200).map((key) => c.node(key)));
  assert.equal(seen, new Set([a, b]));
});

addresses('nginx server text: unix: is case-insensitive and has no port, a trailing name is no port', () => {
  // "unix:/run/a.sock" hashes as host "/run/a.sock" with no port, the same as a bare "/run/a.sock".
  assert.equal(sample(ring(['UNIX:/run/a.sock', '10.7.0.1:80'])), sample(ring(['/run/a.sock', '10.7.0.1:80'])));
  assert.equal(sample(ring(['unix:/run/a.sock', '10.7.0.1:80'])), sample(ring(['/run/a.sock', '10.7.0.1:80'])));
  // A host without a port hashes as host "\0" with an empty port: different from host:80.
  assert.not.equal(sample(ring(['10.7.0.2', '10.7.0.1:80'])), sample(ring(['10.7.0.2:80', '10.7.0.1:80'])));
  function sample(c: Continuum) {
    return keys(300).map((key) => c.bucketIdx(key));
  }
});

const errors = suite('continuum: bad input');

errors('zero, negative, fractional and non-number weights', () => {
  for (const weight of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2', null, undefined]) {
    expectError(
      'ERR_KETAMA_INVALID_WEIGHT',
      () => new Continuum([{ addr: '10.0.0.1:80', weight: 1 }, { addr: '10.0.0.2:80', weight } as unknown as Bucket]),
      /bucket 1 \(10\.0\.0\.2:80\): weight must be a positive integer/,
    );
  }
});

errors('unusable addresses', () => {
  const bad: unknown[] = ['', '10.0.0.1 :80', 'a;b', '10.0.0.1:80\n', 42, null, { address: 'example.com', port: 80 }, { address: '10.0.0.1', port: 70000 }, { address: '10.0.0.1', port: 1.5 }, { address: '::1' }];
  for (const addr of bad) expectError('ERR_KETAMA_INVALID_ADDRESS', () => new Continuum([{ addr, weight: 1 } as Bucket]), /bucket 0/);
  expectError('ERR_KETAMA_INVALID_ADDRESS', () => new Continuum([{ addr: { address: '::1', port: -1 }, weight: 1 }]), /bucket 0: port -1/);
});

errors('buckets that are not an iterable of objects', () => {
  expectError('ERR_KETAMA_INVALID_BUCKETS', () => new Continuum([null as unknown as Bucket]), /bucket 0 must be an object/);
  expectError('ERR_KETAMA_INVALID_BUCKETS', () => new Continuum([{ addr: '10.0.0.1:80', weight: 1 }, 'x' as unknown as Bucket]), /bucket 1/);
  for (const bad of [undefined, null, 42, { addr: '10.0.0.1:80', weight: 1 }]) {
    expectError('ERR_KETAMA_INVALID_BUCKETS', () => new Continuum(bad as unknown as Bucket[]), /iterable/);
  }
});

errors('a weight error names an object address by ip:port', () => {
  expectError('ERR_KETAMA_INVALID_WEIGHT', () => new Continuum([{ addr: { address: '10.9.0.1', port: 81 }, weight: 0 }]), /bucket 0 \(10\.9\.0\.1:81\)/);
});

errors('maxPoints bounds the ring', () => {
  expectError('ERR_KETAMA_TOO_MANY_POINTS', () => new Continuum([{ addr: '10.0.0.1:80', weight: 11 }], { maxPoints: 1600 }), /maxPoints \(1600\)/);
  assert.is(new Continuum([{ addr: '10.0.0.1:80', weight: 10 }], { maxPoints: 1600 }).pointCount, 1600);
  expectError('ERR_KETAMA_TOO_MANY_POINTS', () => new Continuum([{ addr: '10.0.0.1:80', weight: 1_000_000 }]));
  for (const maxPoints of [0, -5, 2.5, 2 ** 40]) expectError('ERR_KETAMA_INVALID_OPTION', () => new Continuum([], { maxPoints }));
});

errors('keys that are neither strings nor bytes', () => {
  const c = ring(['10.0.0.1:80']);
  expectError('ERR_KETAMA_INVALID_KEY', () => c.node(7 as unknown as string));
  expectError('ERR_KETAMA_INVALID_KEY', () => new Continuum([]).node({} as unknown as string));
});

fixtures.run();
points.run();
empty.run();
iteration.run();
consistency.run();
keyTypes.run();
addresses.run();
errors.run();
