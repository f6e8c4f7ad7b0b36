// One CA and one reusable key per test process: RSA key generation dominates certificate cost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createCertificateAuthority, generatePrivateKey, type CertificateAuthority } from '../../src/certificate.js';

let ca: CertificateAuthority | undefined;
let key: string | undefined;

export function testCa(): CertificateAuthority {
  return (ca ??= createCertificateAuthority({ commonName: 'Sluice Test CA', key: testKey() }));
}

/** A second, unrelated CA (for unknown-CA cases). */
let otherCa: CertificateAuthority | undefined;
export function otherTestCa(): CertificateAuthority {
  return (otherCa ??= createCertificateAuthority({ commonName: 'Other CA', key: testKey() }));
}

export function testKey(): string {
  return (key ??= generatePrivateKey());
}

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs a command with stdin text, resolves with its exit code and output; bounded by `timeoutMs`. */
export function run(cmd: string, args: string[], input = '', timeoutMs = 10_000, keepStdinOpenMs = 0): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} hung past ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.write(input);
    if (keepStdinOpenMs > 0) setTimeout(() => child.stdin.end(), keepStdinOpenMs);
    else child.stdin.end();
  });
}
