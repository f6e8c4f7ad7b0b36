import type { HeaderMap } from '@sluice/core';

/**
 * Fields that describe one connection, not the message (RFC 9110 §7.6.1, and the de-facto
 * Keep-Alive, Proxy-Connection); a proxy must not forward them. Transfer-Encoding is re-framed per hop
 * (RFC 9112 §6.1), so it goes too.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * Removes the hop-by-hop fields of `headers`, and every field the Connection field names. With
 * `keepUpgrade` (a WebSocket or other protocol switch being forwarded) `Upgrade` and
 * `Connection: upgrade` stay, since the switch must reach the origin.
 */
export function removeHopByHop(headers: HeaderMap, keepUpgrade = false): void {
  const connection = headers.getAll('connection');
  for (let i = 0; i < connection.length; i++) {
    for (const token of connection[i].split(',')) {
      const name = token.trim();
      if (name.length === 0) continue;
      const lower = name.toLowerCase();
      if (keepUpgrade && lower === 'upgrade') continue;
      headers.delete(lower);
    }
  }
  const upgrade = keepUpgrade ? headers.get('upgrade') : undefined;
  for (let i = 0; i < HOP_BY_HOP.length; i++) headers.delete(HOP_BY_HOP[i]);
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
