import { hostname } from 'node:os';
import { ObservabilityError } from './error.js';

/** Syslog severities (RFC 5424 §6.2.1, table 2). */
export const SyslogSeverity = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  informational: 6,
  debug: 7,
} as const;

/** Facility codes (RFC 5424 §6.2.1, table 1) that a server typically logs under. */
export const SyslogFacility = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

/** SD-ELEMENTs: `{ 'origin@32473': { ip: '10.0.0.1' } }` (RFC 5424 §6.3). */
export type StructuredData = Record<string, Record<string, string>>;

/** The fields of an RFC 5424 header that stay the same for one sender. */
export interface SyslogHeaderOptions {
  /** Facility code 0-23 (default 1, user-level). */
  facility?: number;
  /** HOSTNAME (default `os.hostname()`); printable US-ASCII, at most 255 characters. */
  hostname?: string;
  /** APP-NAME (default `sluice`); printable US-ASCII, at most 48 characters. */
  appName?: string;
  /** PROCID (default the process id); printable US-ASCII, at most 128 characters. */
  procId?: string;
}

/** Everything one message needs besides the text. */
export interface SyslogMessageOptions {
  severity: number;
  /** MSGID (RFC 5424 §6.2.7), at most 32 printable characters; `-` when absent. */
  msgId?: string;
  structuredData?: StructuredData;
  /** Defaults to now. */
  timestamp?: Date;
}

/** A validated sender header: `<PRI>1 ` comes per message, the rest is fixed. */
export class SyslogHeader {
  readonly facility: number;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;

  /** @throws ObservabilityError `ERR_SYSLOG_INVALID_FIELD` for a field RFC 5424 does not allow. */
  constructor(options: SyslogHeaderOptions = {}) {
    const facility = options.facility ?? SyslogFacility.user;
    if (!Number.isInteger(facility) || facility < 0 || facility > 23) {
      throw new ObservabilityError('ERR_SYSLOG_INVALID_FIELD', `syslog facility must be an integer 0-23, got ${facility}`);
    }
    this.facility = facility;
    this.hostname = headerField('HOSTNAME', options.hostname ?? (hostname() || '-'), 255);
    this.appName = headerField('APP-NAME', options.appName ?? 'sluice', 48);
    this.procId = headerField('PROCID', options.procId ?? String(process.pid), 128);
  }
}

/**
 * One RFC 5424 message as a string:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [BOM]MSG`. A message with non-ASCII text gets the
 * UTF-8 BOM that §6.4 asks for; MSGID characters outside printable US-ASCII become `_`.
 * @throws ObservabilityError `ERR_SYSLOG_INVALID_FIELD` for a bad severity or SD name.
 */
export function formatSyslogMessage(header: SyslogHeader, message: string, options: SyslogMessageOptions): string {
  const severity = options.severity;
  if (!Number.isInteger(severity) || severity < 0 || severity > 7) {
    throw new ObservabilityError('ERR_SYSLOG_INVALID_FIELD', `syslog severity must be an integer 0-7, got ${severity}`);
  }
  const pri = header.facility * 8 + severity;
  const timestamp = (options.timestamp ?? new Date()).toISOString();
  const msgId = options.msgId ? printable(options.msgId, 32) : '-';
  const sd = options.structuredData ? formatStructuredData(options.structuredData) : '-';
  const head = `<${pri}>1 ${timestamp} ${header.hostname} ${header.appName} ${header.procId} ${msgId} ${sd}`;
  if (message.length === 0) return head;
  // §6.4: MSG in UTF-8 starts with a BOM; pure ASCII is fine as MSG-ANY.
  return isAscii(message) ? `${head} ${message}` : `${head} \uFEFF${message}`;
}

/** `[id name="value"...]...` with `"`, `\` and `]` escaped in values (RFC 5424 §6.3.3). */
export function formatStructuredData(data: StructuredData): string {
  let out = '';
  for (const id of Object.keys(data)) {
    sdName('SD-ID', id);
    out += `[${id}`;
    const params = data[id];
    for (const name of Object.keys(params)) {
      sdName('PARAM-NAME', name);
      out += ` ${name}="${params[name].replace(/["\\\]]/g, '\\$&')}"`;
    }
    out += ']';
  }
  return out === '' ? '-' : out;
}

function headerField(what: string, value: string, max: number): string {
  if (value.length === 0 || value.length > max || !/^[\x21-\x7e]+$/.test(value)) {
    throw new ObservabilityError('ERR_SYSLOG_INVALID_FIELD', `syslog ${what} must be 1-${max} printable US-ASCII characters without spaces, got ${JSON.stringify(value)}`);
  }
  return value;
}

function sdName(what: string, value: string): void {
  // SD-NAME: 1-32 PRINTUSASCII except '=', SP, ']' and '"' (§6.3.2).
  if (!/^[\x21-\x7e]{1,32}$/.test(value) || /[= \]"]/.test(value)) {
    throw new ObservabilityError('ERR_SYSLOG_INVALID_FIELD', `syslog ${what} must be 1-32 printable characters other than = ] ", got ${JSON.stringify(value)}`);
  }
}

function printable(value: string, max: number): string {
  const cut = value.length > max ? value.slice(0, max) : value;
  return cut.replace(/[^\x21-\x7e]/g, '_');
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
