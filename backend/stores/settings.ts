// What households set: their tariff and alert thresholds (JSON, validated by
// the routes' schemas, backend/dashboard.ts) and the roles of their meters.

import type { Clock } from '../clock';
import type { Sql } from '../db';
import type { MeterRole, Row } from './rows';

/** What households set: tariffs, alert thresholds (JSON text), the roles of their meters. */
export interface SettingsStore {
  /** A household's tariff as stored (JSON text), or null. */
  tariff(householdId: string): Promise<string | null>;
  setTariff(householdId: string, tariff: string): Promise<void>;
  /** A household's alert thresholds as stored (JSON text), or null. */
  alertSettings(householdId: string): Promise<string | null>;
  setAlertSettings(householdId: string, settings: string): Promise<void>;
  /** The roles households gave their meters (meters without one measure the grid connection). */
  meterRoles(meterIds: string[]): Promise<Map<string, MeterRole>>;
  setMeterRole(meterId: string, role: MeterRole): Promise<void>;
}

export function settingsStore(db: Sql, clock: Clock): SettingsStore {
  const text = async (sql: string, id: string, column: string) => {
    const rows = await db.all<Row>(sql, [id]);
    return rows.length ? (rows[0][column] as string) : null;
  };
  return {
    tariff: (householdId) => text('SELECT tariff FROM tariffs WHERE household_id = ?', householdId, 'tariff'),
    async setTariff(householdId, tariff) {
      await db.run('INSERT INTO tariffs (household_id, tariff, updated_at) VALUES (?, ?, ?) ON CONFLICT (household_id) DO UPDATE SET tariff = excluded.tariff, updated_at = excluded.updated_at', [householdId, tariff, clock()]);
    },
    alertSettings: (householdId) => text('SELECT settings FROM alert_settings WHERE household_id = ?', householdId, 'settings'),
    async setAlertSettings(householdId, settings) {
      await db.run(
        'INSERT INTO alert_settings (household_id, settings, updated_at) VALUES (?, ?, ?) ON CONFLICT (household_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at',
        [householdId, settings, clock()],
      );
    },
    async meterRoles(meterIds) {
      if (!meterIds.length) return new Map();
      const rows = await db.all<Row>(`SELECT meter_id, role FROM meter_roles WHERE meter_id IN (${meterIds.map(() => '?').join(', ')})`, meterIds);
      return new Map(rows.map((r) => [r.meter_id as string, r.role as MeterRole]));
    },
    async setMeterRole(meterId, role) {
      await db.run('INSERT INTO meter_roles (meter_id, role, updated_at) VALUES (?, ?, ?) ON CONFLICT (meter_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at', [meterId, role, clock()]);
    },
  };
}
