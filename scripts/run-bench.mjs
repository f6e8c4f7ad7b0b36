#!/usr/bin/env node
// Runs the benchmarks in bench/ (all, or those whose file name contains an argument), one process
// each, so a benchmark's peers share its process and nothing else does.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const bench = resolve(import.meta.dirname, '..', 'bench');
const wanted = process.argv.slice(2);
const files = readdirSync(bench)
  .filter((f) => /\.bench\.ts$/.test(f))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failures = 0;
for (const f of files) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(bench, f)], { stdio: 'inherit', cwd: bench });
  if (r.status !== 0) failures++;
}
if (files.length === 0) console.log('no benchmark matched');
process.exitCode = failures ? 1 : 0;
