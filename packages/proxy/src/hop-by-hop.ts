import type { HeaderMap } from '@sluice/core';

/**
 * Fields that describe one connection, not the message (RFC 9110 §7.6.1, and the de-facto
 * Keep-Alive, Proxy-Connection); a proxy must not forward them. Transfer-Encoding is re-framed per hop
 * (RFC 9112 §6.1), so it goes too.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const HOP_BY_HOP_SET: ReadonlySet<string> = new Set(HOP_BY_HOP);

/**
 * Removes the hop-by-hop fields of `headers`, and every field the Connection field names. With
 * `keepUpgrade` (a WebSocket or other protocol switch being forwarded) `Upgrade` and
 * `Connection: upgrade` stay, since the switch must reach the origin.
 */
export function removeHopByHop(headers: HeaderMap, keepUpgrade = false): void {
  // One scan first: most messages carry only Connection (or nothing) of these, so deleting by name
  // (a scan each) is only done for the names actually present.
  let found = 0;
  for (let i = 0; i < headers.size; i++) if (HOP_BY_HOP_SET.has(headers.keyAt(i))) found++;
  if (found === 0) return;
  const connection = headers.getAll('connection');
  for (let i = 0; i < connection.length; i++) {
    const value = connection[i];
    // The common values name no other field.
    if (value.length <= 10 && /^(?:keep-alive|close|upgrade)$/i.test(value)) continue;
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name.length === 0 || (keepUpgrade && name === 'upgrade')) continue;
      headers.delete(name);
    }
  }
  const upgrade = keepUpgrade ? headers.get('upgrade') : undefined;
  for (let i = 0; i < HOP_BY_HOP.length; i++) if (headers.has(HOP_BY_HOP[i])) headers.delete(HOP_BY_HOP[i]);
  if (upgrade !== undefined) {
    headers.appendUnchecked('Connection', 'upgrade');
    headers.appendUnchecked('Upgrade', upgrade);
  }
}

/** Whether a Connection field value lists `token` (case-insensitive). */
export function connectionHas(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const t of value.split(',')) if (t.trim().toLowerCase() === token) return true;
  return false;
}
