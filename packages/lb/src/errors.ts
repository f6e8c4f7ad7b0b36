import { SluiceError, type ErrorType } from '@sluice/core';

/** The stable codes of the errors @sluice/lb throws itself (network failures keep core's codes). */
export type LbErrorCode =
  | 'ERR_LB_INVALID_ADDRESS'
  | 'ERR_LB_INVALID_WEIGHT'
  | 'ERR_LB_TOO_MUCH_WEIGHT'
  | 'ERR_LB_INVALID_OPTION'
  | 'ERR_LB_INVALID_DISCOVERY'
  | 'ERR_LB_DNS_FAILURE'
  | 'ERR_LB_UNHEALTHY_STATUS'
  | 'ERR_LB_UNHEALTHY_RESPONSE';

/** An error of @sluice/lb: a {@link SluiceError} with one of the {@link LbErrorCode}s. */
export class LbError extends SluiceError {
  declare readonly code: LbErrorCode;

  constructor(type: ErrorType, code: LbErrorCode, context: string, options: { cause?: unknown; status?: number } = {}) {
    super(type, { code, context, cause: options.cause, status: options.status, source: type === 'ConfigError' ? 'Internal' : 'Upstream' });
    this.name = 'LbError';
  }
}

/** Throws `ERR_LB_INVALID_OPTION` unless `value` is undefined or an integer in `min..max`. */
export function checkInteger(value: number | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new LbError('ConfigError', 'ERR_LB_INVALID_OPTION', `${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}
