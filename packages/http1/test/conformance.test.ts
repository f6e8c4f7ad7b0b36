// llhttp's own fixtures (strict mode) against our parser, each fed whole, split in two at every offset,
// and in every chunk size, as llhttp's harness does. Inputs longer than 256 bytes get every two-way
// split but only chunk sizes 1-64 plus every 7th size above, to keep the suite quick.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { llhttpTestsDir, loadFixtures } from './helpers/fixtures.js';
import type { Fixture } from './helpers/fixtures.js';
import { diffOutcome, runOurs } from './helpers/outcome.js';
import type { Outcome } from './helpers/outcome.js';

/**
 * Fixtures where we deliberately differ from llhttp (each listed in the README with its RFC section),
 * with what we do instead: the error code we raise, or 'accept'.
 */
const DIVERGENCES: Record<string, string> = {
  // RFC 9110 §9.1: a method is any token; llhttp only knows a fixed list.
  'request/invalid.md: HTTP protocol and ANNOUNCE method': 'accept',
  'request/invalid.md: Invalid method': 'accept',
  // RFC 9112 §2.3: HTTP-version is "HTTP/" DIGIT "." DIGIT; RTSP and ICE are other protocols.
  'request/method.md: SOURCE request with ICE': 'ERR_H1_INVALID_CONSTANT',
  'request/method.md: OPTIONS request with RTSP': 'ERR_H1_INVALID_CONSTANT',
  'request/method.md: ANNOUNCE request with RTSP': 'ERR_H1_INVALID_CONSTANT',
  'response/sample.md: RTSP response': 'ERR_H1_INVALID_CONSTANT',
  'response/sample.md: ICE response': 'ERR_H1_INVALID_CONSTANT',
  // RFC 9112 §2.3 and Appendix C.1: HTTP/0.9 is not HTTP/1.x.
  'request/sample.md: No HTTP version': 'ERR_H1_INVALID_CONSTANT',
  'response/sample.md: HTTP version 0.9': 'ERR_H1_UNSUPPORTED_VERSION',
  // RFC 9113 §3.4: the HTTP/2 preface is for an HTTP/2 parser; we parse PRI as a method, then fail.
  'request/method.md: PRI request HTTP2': 'ERR_H1_INVALID_METHOD',
  // RFC 9112 §6.3 rule 4: same rejection, same offset, but before reporting the head, not after.
  'request/transfer-encoding.md: Ignoring `pigeons`': 'ERR_H1_UNKNOWN_TRANSFER_CODING',
  'request/transfer-encoding.md: POST with `chunkedchunked` as transfer-encoding': 'ERR_H1_UNKNOWN_TRANSFER_CODING',
};

function cutsOf(len: number, size: number): number[] {
  const cuts: number[] = [];
  for (let c = size; c < len; c += size) cuts.push(c);
  return cuts;
}

function splitPlans(f: Fixture): number[][] {
  if (f.noScan) return [];
  const len = f.input.length;
  const plans: number[][] = [];
  for (let i = 1; i < len; i++) plans.push([i]);
  for (let size = 1; size < len; size++) if (len <= 256 || size <= 64 || size % 7 === 0) plans.push(cutsOf(len, size));
  return plans;
}

const dir = llhttpTestsDir();
if (!dir) {
  console.log('SKIPPED llhttp conformance suites: ../shared/testdata/llhttp-tests not found (set SLUICE_TESTDATA)');
  const none = suite('llhttp conformance (corpus absent)');
  none('corpus absent: nothing to compare', () => assert.ok(true));
  none.run();
} else {
  const { fixtures, skipped } = loadFixtures(dir);
  console.log(`NOTICE llhttp fixtures: ${fixtures.length} strict-mode cases; ${skipped.length} lenient-mode cases do not apply`);

  for (const kind of ['request', 'response'] as const) {
    const s = suite(`llhttp fixtures: ${kind}s`);
    for (const f of fixtures.filter((x) => x.kind === kind)) {
      s(f.name, () => {
        const opts = { finish: f.finish, skipBody: f.skipBody };
        const whole = runOurs(f.kind, f.input, [], opts);
        const divergence = DIVERGENCES[f.name];
        if (divergence !== undefined) {
          assert.is(whole.error?.ours ?? 'accept', divergence, 'documented divergence changed');
          assert.ok(diffOutcome(whole, f.expected) !== '', 'a listed divergence now agrees with llhttp: remove it from the list');
        } else {
          assert.is(diffOutcome(whole, f.expected), '', `input ${JSON.stringify(f.input.toString('latin1'))}`);
        }
        for (const cuts of splitPlans(f)) {
          const split: Outcome = runOurs(f.kind, f.input, cuts, opts);
          assert.is(diffOutcome(split, whole), '', `split at ${cuts.slice(0, 8).join(',')}${cuts.length > 8 ? ',…' : ''} of ${JSON.stringify(f.input.toString('latin1'))}`);
        }
      });
    }
    s.run();
  }
}
