import { appendFileSync } from 'node:fs';

/** Where the server and its services report what happened. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

function line(level: string, message: string, error?: unknown): string {
  const detail = error instanceof Error ? ` (${error.message})` : error === undefined ? '' : ` (${String(error)})`;
  return `${new Date().toISOString()} ${level} ${message}${detail}\n`;
}

/** Logs to stderr, or appended to `path` (pingora's `error_log`) when given. */
export function defaultLogger(path?: string): Logger {
  const write = path ? (s: string) => appendFileSync(path, s) : (s: string) => void process.stderr.write(s);
  return {
    info: (m) => write(line('INFO', m)),
    warn: (m) => write(line('WARN', m)),
    error: (m, e) => write(line('ERROR', m, e)),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
