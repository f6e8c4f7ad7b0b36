// RFC 9113 §5.1: the life of a stream. Push streams (reserved states) are never used: we send
// SETTINGS_ENABLE_PUSH = 0 as a client and never push as a server.

/** Stream states of RFC 9113 §5.1 that a stream object can be in. */
export const StreamState = {
  OPEN: 0,
  /** We sent END_STREAM; the peer may still send. */
  HALF_CLOSED_LOCAL: 1,
  /** The peer sent END_STREAM; we may still send. */
  HALF_CLOSED_REMOTE: 2,
  CLOSED: 3,
} as const;

export type StreamStateValue = (typeof StreamState)[keyof typeof StreamState];

/** The state after we send END_STREAM. */
export function afterLocalEnd(state: StreamStateValue): StreamStateValue {
  return state === StreamState.OPEN ? StreamState.HALF_CLOSED_LOCAL : StreamState.CLOSED;
}

/** The state after the peer sends END_STREAM. */
export function afterRemoteEnd(state: StreamStateValue): StreamStateValue {
  return state === StreamState.OPEN ? StreamState.HALF_CLOSED_REMOTE : StreamState.CLOSED;
}

/** Why a stream id that is no longer in the table was closed; decides how late frames are treated. */
export const ClosedReason = {
  /** Both sides ended it: DATA or HEADERS now are a connection error STREAM_CLOSED (§5.1). */
  ENDED: 1,
  /** We sent RST_STREAM: frames in flight are ignored (§5.1, "closed"). */
  RESET_BY_US: 2,
  /** The peer sent RST_STREAM: further frames are a stream error STREAM_CLOSED (§5.1). */
  RESET_BY_PEER: 3,
} as const;

/**
 * Remembers why the last `capacity` streams closed, in a ring, so memory stays bounded however
 * many streams a connection carries; older ids are simply "closed".
 */
export class ClosedStreams {
  private readonly ids: Int32Array;
  private readonly reasons: Uint8Array;
  private next = 0;

  constructor(capacity: number) {
    this.ids = new Int32Array(Math.max(1, capacity));
    this.reasons = new Uint8Array(Math.max(1, capacity));
  }

  add(streamId: number, reason: number): void {
    this.ids[this.next] = streamId;
    this.reasons[this.next] = reason;
    this.next = (this.next + 1) % this.ids.length;
  }

  /** The reason recorded for `streamId`, or 0 when it is not remembered. */
  reasonOf(streamId: number): number {
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) if (ids[i] === streamId) return this.reasons[i];
    return 0;
  }
}
