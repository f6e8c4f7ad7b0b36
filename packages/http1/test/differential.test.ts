// Differential test: our parser against llhttp on the same bytes, with two oracles: Node's own llhttp
// binding (strict, 9.3.1) and llhttp-wasm. Accept/reject and every parsed field (start line, fields in
// order, body, trailers, message completion, upgrade point) must agree, except for the deliberate
// divergences `knownDivergence` names (listed in the README). Both parsers rejecting counts as agreement
// on accept/reject; how often the error code and offset also match is printed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mutationCorpus } from './helpers/corpus.js';
import { diffOutcome, knownDivergence, runNative, runOurs, runWasm, utf8View } from './helpers/outcome.js';
import type { Outcome } from './helpers/outcome.js';

const cases = mutationCorpus(200);

function agreeOnFields(ours: Outcome, theirs: Outcome, compareTrailers = true): string {
  const d = diffOutcome(ours, theirs, { compareTrailers });
  if (d === '' || (ours.error && theirs.error && !d.startsWith('messages'))) return '';
  return d;
}

for (const [oracle, run, view] of [
  ['Node native llhttp', runNative, (o: Outcome) => o],
  ['llhttp-wasm', runWasm, utf8View],
] as const) {
  const s = suite(`differential vs ${oracle}`);
  s(`${cases.length} generated messages: same accept/reject and fields`, () => {
    const known = new Map<string, number>();
    const failures: string[] = [];
    let bothRejected = 0;
    let sameErrorAndOffset = 0;
    for (const c of cases) {
      const ours = runOurs(c.kind, c.input);
      const theirs = run(c.kind, c.input);
      const d = agreeOnFields(view(ours), theirs, oracle !== 'llhttp-wasm');
      if (d !== '') {
        const why = knownDivergence(c.kind, c.input, ours, oracle === 'llhttp-wasm' ? runNative(c.kind, c.input) : theirs);
        if (why) known.set(why, (known.get(why) ?? 0) + 1);
        else failures.push(`${c.kind} ${c.label} ${JSON.stringify(c.input.toString('latin1'))}\n${d}`);
        continue;
      }
      if (ours.error && theirs.error) {
        // llhttp rejects a method at the first byte no method it knows has; we take any token, so
        // where it stopped at a method its offset says nothing about ours.
        if (theirs.error.code === 6 || knownDivergence(c.kind, c.input, ours, { messages: [], error: { code: 6, offset: 0 } }) !== '') continue;
        bothRejected++;
        if (diffOutcome(view(ours), theirs, { compareTrailers: false }) === '') sameErrorAndOffset++;
      }
    }
    console.log(`NOTICE vs ${oracle}: ${cases.length} cases; ${bothRejected} rejected by both with methods llhttp knows, same error class and offset in ${sameErrorAndOffset}; deliberate: ${JSON.stringify(Object.fromEntries(known))}`);
    assert.is(failures.length, 0, `unexplained divergences:\n${failures.slice(0, 5).join('\n')}`);
  });
  s.run();
}

// The two oracles must agree with each other, or the comparison above proves little.
const oracles = suite('oracles agree with each other');
oracles('native llhttp and llhttp-wasm give the same outcome on the corpus', () => {
  let differ = 0;
  for (const c of cases.slice(0, 4000)) {
    const a = runNative(c.kind, c.input);
    const b = runWasm(c.kind, c.input);
    if (diffOutcome(utf8View({ ...a, error: a.error }), b, { compareTrailers: false }) !== '' && !(a.error && b.error && a.error.code === b.error.code)) differ++;
  }
  assert.is(differ, 0);
});
oracles.run();
