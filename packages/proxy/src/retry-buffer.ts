/** Default bytes of request body kept for a retry (Pingora's 64 KiB `BODY_BUF_LIMIT`). */
export const DEFAULT_RETRY_BUFFER_BYTES = 64 * 1024;

/**
 * Keeps the first bytes of a request body as they are forwarded, so the request can be sent again
 * when a (reused) upstream connection fails before answering. Once the body outgrows the limit the
 * buffer is dropped and the request can no longer be retried. The chunks kept are the Buffers that
 * arrived, but for lent ones (views of the downstream connection's read buffers, read into again once
 * given back), which are copied.
 */
export class RetryBuffer {
  readonly limit: number;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;

  constructor(limit = DEFAULT_RETRY_BUFFER_BYTES) {
    this.limit = limit;
  }

  /** Records a chunk that is being sent upstream; a `lent` one is kept as a copy. */
  record(chunk: Buffer, lent = false): void {
    if (this.overflowed) return;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.overflowed = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(lent ? Buffer.from(chunk) : chunk);
  }

  /** Whether every byte forwarded so far is still here, so the body can be sent again. */
  get replayable(): boolean {
    return !this.overflowed;
  }

  /** The chunks sent so far, in order (only meaningful while {@link RetryBuffer.replayable}). */
  get recorded(): readonly Buffer[] {
    return this.chunks;
  }

  /** Bytes recorded. */
  get bytes(): number {
    return this.size;
  }
}
