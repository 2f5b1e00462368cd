// The live channel's values (TAF 14): the last minutes per meter only, and
// until when somebody watches a meter's Live view.

import type { Sql } from '../db';
import { claimMeter } from './meters';
import type { Device, Row } from './rows';

/** How long live values are kept: the Live view's window. */
export const LIVE_KEEP_MS = 15 * 60000;

interface LiveRow {
  time: number;
  values: { [channel: string]: number };
}

/** The live channel's last minutes per meter, and who watches. */
export interface LiveStore {
  /**
   * Keeps a live push's values (a value already held for its time is kept as
   * it was) and forgets the meter's values older than LIVE_KEEP_MS; says
   * whether somebody watches the meter's Live view.
   */
  addLive(device: Device, meterId: string, rows: LiveRow[], now: number): Promise<{ accepted: number; watched: boolean }>;
  /** The meter's live values after `since` (ms), oldest first. */
  liveValues(meterId: string, since: number): Promise<LiveRow[]>;
  /** The meter's newest live value, or null. */
  latestLive(meterId: string): Promise<LiveRow | null>;
  /** Somebody looks at the meter's Live view until `until` (ms). */
  watchLive(meterId: string, until: number): Promise<void>;
}

function liveRowOf(r: Row): LiveRow {
  return { time: Number(r.time), values: JSON.parse(String(r.live)) as LiveRow['values'] };
}

export function liveStore(db: Sql): LiveStore {
  return {
    addLive(device, meterId, rows, now) {
      return db.transaction(async (tx) => {
        // A push with nothing to keep changes nothing (it only asks whether somebody watches).
        if (rows.length) await claimMeter(tx, meterId, device, now);
        let accepted = 0;
        for (const r of rows) {
          accepted += await tx.run('INSERT INTO live_values (meter_id, time, device_id, live) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [meterId, r.time, device.id, JSON.stringify(r.values)]);
        }
        await tx.run('DELETE FROM live_values WHERE meter_id = ? AND time < ?', [meterId, now - LIVE_KEEP_MS]);
        const watch = await tx.all<Row>('SELECT until FROM live_watch WHERE meter_id = ?', [meterId]);
        return { accepted, watched: watch.length > 0 && Number(watch[0].until) > now };
      });
    },
    async liveValues(meterId, since) {
      return (await db.all<Row>('SELECT time, live FROM live_values WHERE meter_id = ? AND time > ? ORDER BY time', [meterId, since])).map(liveRowOf);
    },
    async latestLive(meterId) {
      const rows = await db.all<Row>('SELECT time, live FROM live_values WHERE meter_id = ? ORDER BY time DESC LIMIT 1', [meterId]);
      return rows.length ? liveRowOf(rows[0]) : null;
    },
    async watchLive(meterId, until) {
      await db.run('INSERT INTO live_watch (meter_id, until) VALUES (?, ?) ON CONFLICT (meter_id) DO UPDATE SET until = excluded.until', [meterId, until]);
    },
  };
}
