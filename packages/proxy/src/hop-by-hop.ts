import type { HeaderMap } from '@sluice/core';

/**
 * Fields that describe one connection, not the message (RFC 9110 §7.6.1, and the de-facto
 * Keep-Alive, Proxy-Connection); a proxy must not forward them. Transfer-Encoding is re-framed per hop
 * (RFC 9112 §6.1), so it goes too.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const HOP_BY_HOP_SET: ReadonlySet<string> = new Set(HOP_BY_HOP);

/** Connection values that name no other field: the common case, with nothing more to remove. */
const PLAIN_CONNECTION = /^(?:keep-alive|close|upgrade)$/i;

/**
 * Removes the hop-by-hop fields of `headers`, and every field the Connection field names. With
 * `keepUpgrade` (a WebSocket or other protocol switch being forwarded) `Upgrade` and
 * `Connection: upgrade` stay, since the switch must reach the origin.
 */
export function removeHopByHop(headers: HeaderMap, keepUpgrade = false): void {
  // One scan to learn what is there: most messages carry none of these, or only Connection with a
  // plain value; then one pass removes them all.
  let found = false;
  let namesOthers = false;
  for (let i = 0; i < headers.size; i++) {
    const key = headers.keyAt(i);
    if (!HOP_BY_HOP_SET.has(key)) continue;
    found = true;
    if (key === 'connection' && !PLAIN_CONNECTION.test(headers.valueAt(i))) namesOthers = true;
  }
  if (!found) return;
  const upgrade = keepUpgrade ? headers.get('upgrade') : undefined;
  headers.deleteKeys(namesOthers ? withConnectionNames(headers, keepUpgrade) : HOP_BY_HOP_SET);
  if (upgrade !== undefined) {
    headers.appendUnchecked('Connection', 'upgrade');
    headers.appendUnchecked('Upgrade', upgrade);
  }
}

/** The hop-by-hop names plus those the Connection fields list (RFC 9110 §7.6.1). */
function withConnectionNames(headers: HeaderMap, keepUpgrade: boolean): Set<string> {
  const names = new Set(HOP_BY_HOP);
  const connection = headers.getAll('connection');
  for (let i = 0; i < connection.length; i++) {
    for (const token of connection[i].split(',')) {
      const name = token.trim().toLowerCase();
      if (name.length === 0 || (keepUpgrade && name === 'upgrade')) continue;
      names.add(name);
    }
  }
  return names;
}

/** Whether a Connection field value lists `token` (case-insensitive). */
export function connectionHas(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const t of value.split(',')) if (t.trim().toLowerCase() === token) return true;
  return false;
}
