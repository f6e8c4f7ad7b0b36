// RFC 9110 §5.6.7: HTTP-date. Recipients accept all three formats; senders generate IMF-fixdate only.

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};
// IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
const RFC850_DATE = /^[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// obsolete asctime: Sun Nov  6 08:49:37 1994
const ASCTIME_DATE = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime) to milliseconds since the epoch.
 * Returns NaN for anything else (RFC 9111 §5.3: an invalid Expires, e.g. `0`, means "already expired").
 */
export function parseHttpDate(value: string | undefined): number {
  if (value === undefined) return NaN;
  const text = value.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m !== null) return build(+m[3], m[2], +m[1], +m[4], +m[5], +m[6]);
  m = RFC850_DATE.exec(text);
  if (m !== null) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means the past century.
    let year = 2000 + +m[3];
    if (year > new Date().getUTCFullYear() + 50) year -= 100;
    return build(year, m[2], +m[1], +m[4], +m[5], +m[6]);
  }
  m = ASCTIME_DATE.exec(text);
  if (m !== null) return build(+m[6], m[1], +m[2].trim(), +m[3], +m[4], +m[5]);
  return NaN;
}

function build(year: number, monthName: string, day: number, hour: number, minute: number, second: number): number {
  const month = MONTHS[monthName.toLowerCase()];
  if (month === undefined || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return NaN;
  const ms = Date.UTC(year, month, day, hour, minute, second > 59 ? 59 : second);
  // Rejects days past the month's end (Date.UTC would roll 31 Feb into March).
  return new Date(ms).getUTCDate() === day ? ms : NaN;
}

/** Formats milliseconds since the epoch as an IMF-fixdate (RFC 9110 §5.6.7). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
