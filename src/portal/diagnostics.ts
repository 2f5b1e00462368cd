// What the meter line's counters mean for the person holding the read head:
// one verdict in words they can act on, worst problem first.

import type { LineStats } from '../meter/reader';

export interface Diagnosis {
  level: 'ok' | 'warn' | 'error';
  message: string;
}

/** `uptime` and `since` (when the reader started) in ms; stats as the reader counts them. */
export function diagnose(s: LineStats, uptime: number, since: number, encrypted: boolean): Diagnosis {
  const r = s.rejected;
  const crc = r.crc ?? 0;
  const key = (r['key-missing'] ?? 0) + (r['wrong-key'] ?? 0);
  const recent = s.lastReadingAt >= 0 && uptime - s.lastReadingAt < 60000;
  if (s.bytes === 0) {
    return uptime - since < 15000
      ? { level: 'warn', message: 'waiting for the meter\'s first data' }
      : { level: 'error', message: 'no data on the line: check that the read head sits on the meter\'s IR window (or the M-Bus wires are connected) and that the meter\'s customer interface is enabled (German meters: unlock it with the PIN from your grid operator)' };
  }
  if (r['key-missing']) return { level: 'error', message: 'data but no key: the meter encrypts its telegrams; enter the key from your grid operator' };
  if (key && !recent) return { level: 'error', message: 'data but wrong key? Telegrams arrive but do not decrypt: check the decryption key from your grid operator' };
  if (r.auth && !recent) return { level: 'error', message: 'the authentication key does not match: check it, or leave it empty if your grid operator gave none' };
  if (s.telegrams === 0) {
    return s.lineErrors > 0
      ? { level: 'error', message: 'data with line errors and no telegram: wrong baud rate or parity? Run auto-detect' }
      : { level: 'warn', message: 'data but no whole telegram yet: wrong protocol? Run auto-detect if this persists' };
  }
  if (crc > 0 && crc * 10 >= s.telegrams) return { level: 'warn', message: `CRC errors in ${crc} of ${s.telegrams} telegrams: check the dongle's position (centred on the IR window, held firmly, shielded from daylight)` };
  if (r.replay) return { level: 'warn', message: 'replayed telegrams were refused (a frame counter did not increase): see the event log' };
  if (!recent) return { level: 'warn', message: 'no reading in the last minute: the meter has gone quiet' };
  return { level: 'ok', message: encrypted ? 'reading normally (decrypted)' : 'reading normally' + (crc ? `; ${crc} telegram(s) with CRC errors` : '') };
}
