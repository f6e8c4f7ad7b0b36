// The small parts under the connection: receive windows, flood budgets, the closed-stream memory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FloodGuard, ReceiveWindow } from '../src/index.js';
import { ClosedReason, ClosedStreams } from '../src/stream-state.js';

const window = suite('ReceiveWindow');

window('refuses octets past the window', () => {
  const w = new ReceiveWindow(100);
  assert.ok(w.receive(60));
  assert.ok(w.receive(40));
  assert.not.ok(w.receive(1));
});

window('returns credit in batches of at least half the target, never more than was consumed', () => {
  const w = new ReceiveWindow(100);
  w.receive(100);
  assert.is(w.release(30), 0);
  assert.is(w.release(30), 60);
  assert.is(w.available, 60);
  assert.ok(w.receive(60));
  assert.is(w.available, 0);
  assert.is(w.release(40), 0);
  assert.is(w.release(10), 50);
  assert.is(w.available, 50); // 160 received, 110 read and returned, 50 left unread: 50 + 50 = the window
});

window('credit is kept when the window was moved down by SETTINGS (negative available)', () => {
  const w = new ReceiveWindow(65535, 16384);
  w.receive(16384);
  w.available += 16384 - 65535; // the peer ACKed a smaller initial window: §6.9.2
  assert.is(w.available, 0);
  assert.is(w.release(16384), 16384);
  assert.is(w.available, 16384);
});

const flood = suite('FloodGuard');

flood('allows `limit` events per window, refuses the next one within it', () => {
  const g = new FloodGuard(3, 60_000);
  assert.equal([g.hit(), g.hit(), g.hit(), g.hit()], [false, false, false, true]);
});

flood('a new window forgives what came before', async () => {
  const g = new FloodGuard(2, 20);
  g.hit();
  g.hit();
  await new Promise((r) => setTimeout(r, 30));
  assert.is(g.hit(), false);
  assert.is(g.hit(), false);
  assert.is(g.hit(), true);
});

const closed = suite('ClosedStreams');

closed('remembers the reasons of the last N closed streams only', () => {
  const c = new ClosedStreams(2);
  c.add(1, ClosedReason.ENDED);
  c.add(3, ClosedReason.RESET_BY_US);
  assert.is(c.reasonOf(1), ClosedReason.ENDED);
  c.add(5, ClosedReason.RESET_BY_PEER);
  assert.is(c.reasonOf(1), 0);
  assert.is(c.reasonOf(3), ClosedReason.RESET_BY_US);
  assert.is(c.reasonOf(5), ClosedReason.RESET_BY_PEER);
});

window.run();
flood.run();
closed.run();
