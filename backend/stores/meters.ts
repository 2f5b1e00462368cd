// Which household a meter belongs to: the household of the device that first
// delivered its readings (or live values). Shared by every way readings and
// live values come in.

import type { Sql } from '../db';
import type { Device, Row } from './rows';

/** A meter that sends no id is known by its device. */
export function meterIdOf(meterId: string | null, deviceId: string): string {
  return meterId ?? `device:${deviceId}`;
}

export class MeterConflict extends Error {}

/** The meter is the device's household's (a new one becomes it); another household's meter is a conflict. */
export async function claimMeter(tx: Sql, meterId: string, device: Device, now: number): Promise<void> {
  const owner = await tx.all<Row>('SELECT household_id FROM meters WHERE id = ?', [meterId]);
  if (owner.length && owner[0].household_id !== device.householdId) throw new MeterConflict(`meter ${meterId} belongs to another household`);
  if (owner.length) await tx.run('UPDATE meters SET last_seen = ?, device_id = ? WHERE id = ?', [now, device.id, meterId]);
  else await tx.run('INSERT INTO meters (id, household_id, device_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)', [meterId, device.householdId, device.id, now, now]);
}
