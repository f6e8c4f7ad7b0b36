// Shared by the frame tests: a FrameHandler that records every call as a plain array.
import { FrameReader, type FrameHandler, type FrameReaderOptions, type Settings, Http2Error } from '../src/index.js';

export type Event = Array<string | number | boolean | Settings>;

export class Recorder implements FrameHandler {
  readonly events: Event[] = [];
  onData(streamId: number, endStream: boolean, data: Buffer, flowControlledLength: number): void {
    this.events.push(['DATA', streamId, endStream, data.toString('hex'), flowControlledLength]);
  }
  onHeaders(streamId: number, endStream: boolean, fieldBlock: Buffer, dependsOn: number): void {
    this.events.push(['HEADERS', streamId, endStream, fieldBlock.toString('hex'), dependsOn]);
  }
  onRstStream(streamId: number, errorCode: number): void {
    this.events.push(['RST_STREAM', streamId, errorCode]);
  }
  onSettings(ack: boolean, settings: Settings): void {
    this.events.push(['SETTINGS', ack, settings]);
  }
  onPushPromise(streamId: number, promisedStreamId: number, fieldBlock: Buffer): void {
    this.events.push(['PUSH_PROMISE', streamId, promisedStreamId, fieldBlock.toString('hex')]);
  }
  onPing(ack: boolean, opaqueData: Buffer): void {
    this.events.push(['PING', ack, opaqueData.toString('hex')]);
  }
  onGoaway(lastStreamId: number, errorCode: number, debugData: Buffer): void {
    this.events.push(['GOAWAY', lastStreamId, errorCode, debugData.toString('latin1')]);
  }
  onWindowUpdate(streamId: number, increment: number): void {
    this.events.push(['WINDOW_UPDATE', streamId, increment]);
  }
  onStreamError(error: Http2Error): void {
    this.events.push(['STREAM_ERROR', error.streamId, error.code, error.errorCode]);
  }
  onUnknownFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    this.events.push(['UNKNOWN', type, flags, streamId, payload.toString('hex')]);
  }
}

/** Reads `bytes` pushed in pieces cut at `cuts` (ascending offsets); returns the events. */
export function readInPieces(bytes: Buffer, cuts: number[], options?: FrameReaderOptions): Event[] {
  const recorder = new Recorder();
  const reader = new FrameReader(recorder, options);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    // Copies, so a view surviving past its push would show up as corrupted data.
    reader.push(Buffer.from(bytes.subarray(from, cut)));
    from = cut;
  }
  return recorder.events;
}

/**
 * Joins the pieces of DATA frames (consecutive DATA on one stream until END_STREAM), so reads of
 * the same bytes cut differently compare equal: a frame split across chunks arrives in pieces.
 */
export function joinData(events: Event[]): Event[] {
  const out: Event[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e[0] === 'DATA' && last !== undefined && last[0] === 'DATA' && last[1] === e[1] && last[2] === false) {
      out[out.length - 1] = ['DATA', e[1], e[2], (last[3] as string) + (e[3] as string), (last[4] as number) + (e[4] as number)];
    } else {
      out.push(e);
    }
  }
  return out;
}
