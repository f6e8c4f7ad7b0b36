import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HeaderMap } from '@sluice/core';
import { removeHopByHop } from '../src/index.js';

const hop = suite('removeHopByHop');

function fields(...pairs: Array<[string, string]>): HeaderMap {
  const h = new HeaderMap();
  for (const [n, v] of pairs) h.append(n, v);
  return h;
}

hop('a message without hop-by-hop fields is left as it is', () => {
  const h = fields(['Host', 'a'], ['X-Custom', '1']);
  removeHopByHop(h);
  assert.equal(h.entries(), [['Host', 'a'], ['X-Custom', '1']]);
});

hop('Connection: keep-alive and the other fixed hop-by-hop fields go; the rest keep order and case', () => {
  const h = fields(['Server', 'n'], ['Connection', 'Keep-Alive'], ['Keep-Alive', 'timeout=5'], ['Transfer-Encoding', 'chunked'], ['X-B', '2'], ['TE', 'trailers'], ['Proxy-Connection', 'x'], ['Trailer', 'X'], ['Upgrade', 'ws']);
  removeHopByHop(h);
  assert.equal(h.entries(), [['Server', 'n'], ['X-B', '2']]);
});

hop('fields named by Connection go too (RFC 9110 §7.6.1), across repeated Connection fields', () => {
  const h = fields(['Connection', 'close, X-Secret'], ['X-Secret', 's'], ['X-Keep', 'k'], ['connection', ' x-other ,'], ['X-Other', 'o']);
  removeHopByHop(h);
  assert.equal(h.entries(), [['X-Keep', 'k']]);
});

hop('keepUpgrade keeps the switch: Upgrade and Connection: upgrade stay, other named fields go', () => {
  const h = fields(['Host', 'a'], ['Connection', 'Upgrade, X-Hop'], ['Upgrade', 'websocket'], ['X-Hop', '1'], ['Sec-WebSocket-Key', 'k']);
  removeHopByHop(h, true);
  assert.equal(h.entries(), [['Host', 'a'], ['Sec-WebSocket-Key', 'k'], ['Connection', 'upgrade'], ['Upgrade', 'websocket']]);
  const plain = fields(['Connection', 'upgrade'], ['Upgrade', 'h2c']);
  removeHopByHop(plain);
  assert.equal(plain.entries(), [], 'without keepUpgrade the switch is dropped');
});

hop.run();
