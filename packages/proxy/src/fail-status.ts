import type { SluiceError } from '@sluice/core';

/**
 * The status answered downstream for a failed request when `failToProxy` does not choose one
 * (Pingora's defaults, plus 504 for an upstream that stopped answering): the error's own status for
 * `HTTPStatus` errors; 504 for an upstream read timeout and 502 for any other upstream failure; for
 * downstream faults the parser's status (400 by default) or 408 for a slow client, and 0 (answer
 * nothing, close) when the client is gone; 500 for everything internal.
 */
export function defaultFailStatus(error: SluiceError): number {
  if (error.type === 'HTTPStatus' && error.status !== undefined) return error.status;
  switch (error.source) {
    case 'Upstream':
      return error.type === 'ReadTimedout' ? 504 : 502;
    case 'Downstream':
      switch (error.type) {
        case 'ConnectionClosed':
        case 'ReadError':
        case 'WriteError':
        case 'WriteTimedout':
          return 0;
        case 'ReadTimedout':
          return 408;
        default:
          return error.status ?? 400;
      }
    default:
      return 500;
  }
}
