// RFC 9113 §6.5: SETTINGS parameters, their initial values and their valid ranges.
import { ErrorCode, Http2Error } from '../error.js';
import { MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE } from './frame-types.js';

/** SETTINGS parameter identifiers (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1). */
export const SettingsParameter = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
  NO_RFC7540_PRIORITIES: 0x9,
} as const;

/**
 * The parameters one SETTINGS frame carries; absent ones keep their previous value. When a frame
 * repeats a parameter, the last occurrence wins (RFC 9113 §6.5.3: processed in order).
 */
export interface Settings {
  headerTableSize?: number;
  enablePush?: boolean;
  maxConcurrentStreams?: number;
  initialWindowSize?: number;
  maxFrameSize?: number;
  maxHeaderListSize?: number;
  enableConnectProtocol?: boolean;
  noRfc7540Priorities?: boolean;
}

/**
 * Initial values of the parameters (RFC 9113 §6.5.2); MAX_CONCURRENT_STREAMS and
 * MAX_HEADER_LIST_SIZE start unlimited, shown as Infinity.
 */
export const DEFAULT_SETTINGS: Readonly<Required<Settings>> = Object.freeze({
  headerTableSize: 4096,
  enablePush: true,
  maxConcurrentStreams: Infinity,
  initialWindowSize: 65535,
  maxFrameSize: MIN_MAX_FRAME_SIZE,
  maxHeaderListSize: Infinity,
  enableConnectProtocol: false,
  noRfc7540Priorities: false,
});

/**
 * Decodes and validates a SETTINGS payload (a multiple of 6 octets, checked by the caller);
 * unknown parameters are ignored (RFC 9113 §6.5.2).
 * @throws Http2Error PROTOCOL_ERROR for a boolean parameter other than 0 or 1 or a
 *   MAX_FRAME_SIZE out of range, FLOW_CONTROL_ERROR for INITIAL_WINDOW_SIZE above 2^31-1.
 */
export function decodeSettings(payload: Uint8Array, start: number, end: number): Settings {
  const settings: Settings = {};
  for (let at = start; at < end; at += 6) {
    const id = (payload[at] << 8) | payload[at + 1];
    const value = ((payload[at + 2] << 24) | (payload[at + 3] << 16) | (payload[at + 4] << 8) | payload[at + 5]) >>> 0;
    switch (id) {
      case SettingsParameter.HEADER_TABLE_SIZE:
        settings.headerTableSize = value;
        break;
      case SettingsParameter.ENABLE_PUSH:
        settings.enablePush = flag(value, 'ENABLE_PUSH');
        break;
      case SettingsParameter.MAX_CONCURRENT_STREAMS:
        settings.maxConcurrentStreams = value;
        break;
      case SettingsParameter.INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW_SIZE) {
          throw new Http2Error(
            'ERR_H2_INVALID_SETTING',
            ErrorCode.FLOW_CONTROL_ERROR,
            `SETTINGS_INITIAL_WINDOW_SIZE ${value} above 2^31-1 (RFC 9113 §6.5.2)`,
          );
        }
        settings.initialWindowSize = value;
        break;
      case SettingsParameter.MAX_FRAME_SIZE:
        if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
          throw new Http2Error(
            'ERR_H2_INVALID_SETTING',
            ErrorCode.PROTOCOL_ERROR,
            `SETTINGS_MAX_FRAME_SIZE ${value} outside ${MIN_MAX_FRAME_SIZE}..${MAX_MAX_FRAME_SIZE} (RFC 9113 §6.5.2)`,
          );
        }
        settings.maxFrameSize = value;
        break;
      case SettingsParameter.MAX_HEADER_LIST_SIZE:
        settings.maxHeaderListSize = value;
        break;
      case SettingsParameter.ENABLE_CONNECT_PROTOCOL:
        settings.enableConnectProtocol = flag(value, 'ENABLE_CONNECT_PROTOCOL');
        break;
      case SettingsParameter.NO_RFC7540_PRIORITIES:
        settings.noRfc7540Priorities = flag(value, 'NO_RFC7540_PRIORITIES');
        break;
      default:
        break; // unknown parameters are ignored
    }
  }
  return settings;
}

/** Octets of the SETTINGS payload for `settings` (6 per parameter present). */
export function settingsPayloadLength(settings: Settings): number {
  let count = 0;
  for (const key in settings) if (settings[key as keyof Settings] !== undefined && key in DEFAULT_SETTINGS) count++;
  return count * 6;
}

/**
 * Writes the parameters present in `settings` at `offset`, in identifier order; returns the
 * offset after them.
 * @throws Http2Error ERR_H2_INVALID_ARGUMENT for a value the peer would have to reject.
 */
export function writeSettings(settings: Settings, target: Uint8Array, offset: number): number {
  let at = offset;
  const put = (id: number, value: number) => {
    target[at] = id >>> 8;
    target[at + 1] = id & 0xff;
    target[at + 2] = value >>> 24;
    target[at + 3] = (value >>> 16) & 0xff;
    target[at + 4] = (value >>> 8) & 0xff;
    target[at + 5] = value & 0xff;
    at += 6;
  };
  if (settings.headerTableSize !== undefined) put(SettingsParameter.HEADER_TABLE_SIZE, u32(settings.headerTableSize, 'headerTableSize'));
  if (settings.enablePush !== undefined) put(SettingsParameter.ENABLE_PUSH, settings.enablePush ? 1 : 0);
  if (settings.maxConcurrentStreams !== undefined) put(SettingsParameter.MAX_CONCURRENT_STREAMS, u32(settings.maxConcurrentStreams, 'maxConcurrentStreams'));
  if (settings.initialWindowSize !== undefined) {
    put(SettingsParameter.INITIAL_WINDOW_SIZE, u32(settings.initialWindowSize, 'initialWindowSize', MAX_WINDOW_SIZE));
  }
  if (settings.maxFrameSize !== undefined) {
    put(SettingsParameter.MAX_FRAME_SIZE, u32(settings.maxFrameSize, 'maxFrameSize', MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE));
  }
  if (settings.maxHeaderListSize !== undefined) put(SettingsParameter.MAX_HEADER_LIST_SIZE, u32(settings.maxHeaderListSize, 'maxHeaderListSize'));
  if (settings.enableConnectProtocol !== undefined) put(SettingsParameter.ENABLE_CONNECT_PROTOCOL, settings.enableConnectProtocol ? 1 : 0);
  if (settings.noRfc7540Priorities !== undefined) put(SettingsParameter.NO_RFC7540_PRIORITIES, settings.noRfc7540Priorities ? 1 : 0);
  return at;
}

function flag(value: number, name: string): boolean {
  if (value > 1) {
    throw new Http2Error('ERR_H2_INVALID_SETTING', ErrorCode.PROTOCOL_ERROR, `SETTINGS_${name} must be 0 or 1, got ${value} (RFC 9113 §6.5.2)`);
  }
  return value === 1;
}

function u32(value: number, name: string, max = 0xffffffff, min = 0): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Http2Error('ERR_H2_INVALID_ARGUMENT', ErrorCode.INTERNAL_ERROR, `settings.${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}
