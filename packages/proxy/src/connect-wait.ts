import { SluiceError } from '@sluice/core';
import type { DownstreamSession, UpstreamHandle } from './session.js';

/**
 * The wait for an upstream connection, held as the session's upstream handle while it lasts: a
 * client that leaves meanwhile (closes its connection, resets its stream) ends the wait at once
 * rather than after the connect timeout, as nginx stops an upstream connect for a closed client
 * (`proxy_ignore_client_abort off`).
 */
class ConnectWait implements UpstreamHandle {
  cancel: (error: SluiceError) => void = noop;
  cancelled = false;

  constructor(private readonly attempt: AbortController | undefined) {}

  close(): void {
    this.cancelled = true;
    this.attempt?.abort();
    this.cancel(clientGoneWhileConnecting());
  }
}

/** Whether the client left (an HTTP/2 stream reset or its connection gone; HTTP/1 clients are watched only while an exchange is attached). */
export function hasClientLeft(session: DownstreamSession): boolean {
  return session.clientGone === true;
}

/** The Downstream error of a request whose client left before its upstream connection was ready. */
export function clientGoneWhileConnecting(): SluiceError {
  return new SluiceError('ConnectionClosed', { context: 'the client went away while the upstream connection opened', source: 'Downstream' });
}

function noop(): void {}

/**
 * Waits for `opening` (a new upstream connection) unless the client leaves first; then rejects with a
 * Downstream `ConnectionClosed`, aborts `attempt` (the connect's own controller, when it is this
 * request's alone) and hands a connection that opens anyway to `discard`.
 * Only new connections pay for this: a reused one is taken without waiting.
 */
export async function connectWhileClientStays<T>(session: DownstreamSession, opening: Promise<T>, discard?: (connection: T) => void, attempt?: AbortController): Promise<T> {
  if (session.attachUpstream === undefined) return opening;
  const wait = new ConnectWait(attempt);
  const left = new Promise<never>((_, reject) => (wait.cancel = reject));
  // Attaching to a session whose client is already gone cancels at once.
  session.attachUpstream(wait);
  try {
    return await Promise.race([opening, left]);
  } catch (e) {
    if (wait.cancelled) opening.then(discard ?? noop, noop);
    throw e;
  } finally {
    session.attachUpstream(null);
  }
}
