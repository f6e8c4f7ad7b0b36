#!/usr/bin/env node
// Runs every uvu test file of the workspace (or of the package folders given as arguments), each in
// its own Node process with tsx, two at a time, and ends with the one line CI reads:
// `N passed, N failed`. A file that crashes, hangs past its bound or prints no uvu summary counts as
// one failure, so a broken file can never pass silently.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const fileTimeoutMs = Number(process.env.SLUICE_TEST_TIMEOUT_MS ?? 300_000);
const parallel = Number(process.env.SLUICE_TEST_JOBS ?? Math.max(2, availableParallelism()));
const filter = process.env.SLUICE_TEST_FILTER;

function testFilesUnder(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFilesUnder(path));
    else if (/\.test\.(ts|mjs|js)$/.test(name)) out.push(path);
  }
  return out;
}

function defaultFolders() {
  const packages = readdirSync(join(root, 'packages')).sort().map((p) => join(root, 'packages', p));
  return [...packages, join(root, 'examples'), join(root, 'bench')];
}

const folders = process.argv.length > 2 ? process.argv.slice(2).map((p) => resolve(p)) : defaultFolders();
let files = folders.flatMap((f) => testFilesUnder(join(f, 'test')));
if (filter) files = files.filter((f) => f.includes(filter));

function runFile(file) {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const total = /Total:\s+(\d+)/.exec(output);
      const passed = /Passed:\s+(\d+)/.exec(output);
      let p = passed ? Number(passed[1]) : 0;
      let f = total ? Number(total[1]) - p : 0;
      let problem = '';
      if (timedOut) problem = `killed after ${fileTimeoutMs} ms (hang bound)`;
      else if (!total) problem = `no uvu summary (exit ${code ?? signal})`;
      else if (code !== 0 && f === 0) problem = `exit ${code ?? signal} after its tests`;
      if (problem) f += 1;
      done({ file, passed: p, failed: f, problem, output, ms: Date.now() - started });
    });
  });
}

let passed = 0;
let failed = 0;
const queue = [...files];
async function worker() {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const r = await runFile(file);
    passed += r.passed;
    failed += r.failed;
    const name = relative(root, r.file);
    const mark = r.failed ? 'FAIL' : 'ok  ';
    console.log(`${mark} ${name}  ${r.passed} passed, ${r.failed} failed  (${r.ms} ms)${r.problem ? '  ' + r.problem : ''}`);
    // Loud notices from the tests themselves (skipped conformance suites) are always shown.
    for (const line of r.output.split('\n')) if (/^\s*(SKIPPED|NOTICE)\b/.test(line)) console.log('     ' + line.trim());
    if (r.failed) console.log(r.output.replace(/^/gm, '     | '));
  }
}
await Promise.all(Array.from({ length: Math.min(parallel, files.length || 1) }, worker));
if (files.length === 0) {
  console.log('no test files found');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
