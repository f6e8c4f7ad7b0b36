import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { parse as ParseYaml } from 'yaml';
import { SluiceError } from './error.js';

/**
 * The server's configuration, with Pingora's keys and units (pingora-core `ServerConf`), so a
 * Pingora config file works unchanged. Keys this version does not know are kept in `extra` for
 * user extensions.
 */
export interface ServerConf {
  version: number;
  daemon: boolean;
  error_log: string | null;
  pid_file: string;
  upgrade_sock: string;
  user: string | null;
  group: string | null;
  threads: number;
  work_stealing: boolean;
  ca_file: string | null;
  /** Seconds open connections get to finish after a graceful shutdown starts (default 300). */
  grace_period_seconds: number | null;
  /** Seconds services get to wind down after the grace period (default 5). */
  graceful_shutdown_timeout_seconds: number | null;
  client_bind_to_ipv4: string[];
  client_bind_to_ipv6: string[];
  upstream_keepalive_pool_size: number;
  max_retries: number;
  upstream_debug_ssl_keylog: boolean;
  /** Keys not listed above, as they were in the file. */
  extra: Record<string, unknown>;
}

/** Pingora's defaults. */
export function defaultServerConf(): ServerConf {
  return {
    version: 1,
    daemon: false,
    error_log: null,
    pid_file: '/tmp/sluice.pid',
    upgrade_sock: '/tmp/sluice_upgrade.sock',
    user: null,
    group: null,
    threads: 1,
    work_stealing: true,
    ca_file: null,
    grace_period_seconds: null,
    graceful_shutdown_timeout_seconds: null,
    client_bind_to_ipv4: [],
    client_bind_to_ipv6: [],
    upstream_keepalive_pool_size: 128,
    max_retries: 16,
    upstream_debug_ssl_keylog: false,
    extra: {},
  };
}

export const DEFAULT_GRACE_PERIOD_SECONDS = 300;
export const DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS = 5;

type Check = (v: unknown) => string | undefined;
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'expected true or false');
const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'expected a non-empty string');
const strOrNull: Check = (v) => (v === null ? undefined : str(v));
const count = (min: number): Check => (v) => (Number.isInteger(v) && (v as number) >= min ? undefined : `expected an integer >= ${min}`);
const secondsOrNull: Check = (v) => (v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0) ? undefined : 'expected a number of seconds >= 0');
const strList: Check = (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'expected a list of strings');

const CHECKS: Record<Exclude<keyof ServerConf, 'extra'>, Check> = {
  version: (v) => (v === 1 ? undefined : 'expected 1, the only configuration version'),
  daemon: bool,
  error_log: strOrNull,
  pid_file: str,
  upgrade_sock: str,
  user: strOrNull,
  group: strOrNull,
  threads: count(1),
  work_stealing: bool,
  ca_file: strOrNull,
  grace_period_seconds: secondsOrNull,
  graceful_shutdown_timeout_seconds: secondsOrNull,
  client_bind_to_ipv4: strList,
  client_bind_to_ipv6: strList,
  upstream_keepalive_pool_size: count(0),
  max_retries: count(0),
  upstream_debug_ssl_keylog: bool,
};

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/**
 * Validates a configuration object (as parsed from YAML) and fills in defaults.
 * @param where names the source in error messages (a file path).
 * @throws SluiceError `ConfigError` naming the key and the reason.
 */
export function validateServerConf(raw: unknown, where = 'configuration'): ServerConf {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SluiceError('ConfigError', { context: `${where}: expected a mapping of keys to values at the top level, got ${show(raw)}` });
  }
  const conf = defaultServerConf();
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const check = (CHECKS as Record<string, Check | undefined>)[key];
    if (!check) {
      conf.extra[key] = value;
      continue;
    }
    const problem = check(value);
    if (problem) throw new SluiceError('ConfigError', { context: `${where}: key "${key}": ${problem}, got ${show(value)}` });
    (conf as unknown as Record<string, unknown>)[key] = value;
  }
  return conf;
}

/**
 * The YAML parser, loaded with the first configuration file: loaded with the module it added about
 * 9 MB of resident memory to every process, most of which never reads a file.
 */
let parseYaml: typeof ParseYaml | undefined;

/**
 * Reads and validates a YAML configuration file.
 * @throws SluiceError `FileReadError` when it cannot be read, `ConfigError` when it is not valid YAML
 *   or a key is wrong (with the line for YAML syntax errors).
 */
export function loadServerConf(path: string): ServerConf {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw SluiceError.because('FileReadError', `reading configuration ${path}`, e);
  }
  let raw: unknown;
  try {
    parseYaml ??= (createRequire(import.meta.url)('yaml') as { parse: typeof ParseYaml }).parse;
    raw = parseYaml(text);
  } catch (e) {
    const at = (e as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    throw new SluiceError('ConfigError', { context: `${path}${at ? `:${at.line}:${at.col}` : ''}: not valid YAML: ${(e as Error).message.split('\n')[0]}` });
  }
  return validateServerConf(raw, path);
}
