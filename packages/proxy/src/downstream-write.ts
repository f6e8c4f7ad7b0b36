import { toSluiceError } from '@sluice/core';

/** Awaits a write to the client, typing its failure as a downstream `WriteError` about `what`. */
export async function downstreamWrite(w: Promise<void>, what: string): Promise<void> {
  try {
    await w;
  } catch (e) {
    const error = toSluiceError(e, 'WriteError', what);
    if (error.source === 'Unset') error.intoDown();
    throw error;
  }
}
