// The registry: credentials (hashes only), households, their devices and
// meters, and what each device last said of itself.

import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import type { Sql } from '../db';
import { deviceOf, meterOf, type Credential, type Device, type DeviceStatus, type Household, type Meter, type Role, type Row } from './rows';

/** Who a token or certificate belongs to (authentication). */
export interface CredentialStore {
  credential(token: string): Promise<Credential | null>;
  deviceByFingerprint(fingerprint: string): Promise<Device | null>;
  deviceByToken(token: string): Promise<Device | null>;
}

/** Households, their devices and meters, credentials, what devices say of themselves. */
export interface RegistryStore extends CredentialStore {
  addCredential(token: string, c: Credential): Promise<void>;
  hasAdmin(): Promise<boolean>;
  createHousehold(h: Household): Promise<void>;
  household(id: string): Promise<Household | null>;
  households(): Promise<Household[]>;
  createDevice(d: { id: string; householdId: string; auth: Device['auth']; certFingerprint: string | null; token: string | null }): Promise<void>;
  device(id: string): Promise<Device | null>;
  devices(): Promise<Device[]>;
  revokeDevice(id: string): Promise<boolean>;
  meters(householdId?: string): Promise<Meter[]>;
  meter(id: string): Promise<Meter | null>;
  reportStatus(deviceId: string, status: DeviceStatus): Promise<void>;
  deviceStatuses(): Promise<Map<string, DeviceStatus>>;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const householdOf = (r: Row): Household => ({ id: r.id as string, name: r.name as string, zone: r.zone as string });

export function registryStore(db: Sql, clock: Clock): RegistryStore {
  const oneDevice = async (sql: string, value: string) => {
    const rows = await db.all<Row>(sql, [value]);
    return rows.length ? deviceOf(rows[0]) : null;
  };
  return {
    async addCredential(token, c) {
      await db.run('INSERT INTO credentials (token_hash, kind, subject, name, created_at) VALUES (?, ?, ?, ?, ?)', [hashToken(token), c.kind, c.subject, c.name, clock()]);
    },
    async credential(token) {
      const rows = await db.all<Row>('SELECT kind, subject, name FROM credentials WHERE token_hash = ?', [hashToken(token)]);
      return rows.length ? { kind: rows[0].kind as Role, subject: (rows[0].subject as string | null) ?? null, name: rows[0].name as string } : null;
    },
    async hasAdmin() {
      return (await db.all("SELECT 1 FROM credentials WHERE kind = 'admin' LIMIT 1")).length > 0;
    },

    async createHousehold(h) {
      await db.run('INSERT INTO households (id, name, zone, created_at) VALUES (?, ?, ?, ?)', [h.id, h.name, h.zone, clock()]);
    },
    async household(id) {
      const rows = await db.all<Row>('SELECT id, name, zone FROM households WHERE id = ?', [id]);
      return rows.length ? householdOf(rows[0]) : null;
    },
    async households() {
      return (await db.all<Row>('SELECT id, name, zone FROM households ORDER BY id')).map(householdOf);
    },

    async createDevice(d) {
      await db.run('INSERT INTO devices (id, household_id, auth, cert_fingerprint, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        d.id,
        d.householdId,
        d.auth,
        d.certFingerprint,
        d.token ? hashToken(d.token) : null,
        clock(),
      ]);
    },
    device: (id) => oneDevice('SELECT * FROM devices WHERE id = ?', id),
    deviceByFingerprint: (fingerprint) => oneDevice('SELECT * FROM devices WHERE cert_fingerprint = ?', fingerprint),
    deviceByToken: (token) => oneDevice('SELECT * FROM devices WHERE token_hash = ?', hashToken(token)),
    async devices() {
      return (await db.all<Row>('SELECT * FROM devices ORDER BY id')).map(deviceOf);
    },
    async revokeDevice(id) {
      return (await db.run('UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [clock(), id])) > 0;
    },

    async meters(householdId) {
      const rows = householdId ? await db.all<Row>('SELECT * FROM meters WHERE household_id = ? ORDER BY id', [householdId]) : await db.all<Row>('SELECT * FROM meters ORDER BY id');
      return rows.map(meterOf);
    },
    async meter(id) {
      const rows = await db.all<Row>('SELECT * FROM meters WHERE id = ?', [id]);
      return rows.length ? meterOf(rows[0]) : null;
    },

    async reportStatus(deviceId, status) {
      await db.run(
        'INSERT INTO device_status (device_id, firmware, backlog, reported_at) VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET firmware = excluded.firmware, backlog = excluded.backlog, reported_at = excluded.reported_at',
        [deviceId, status.firmware, status.backlog, status.reportedAt],
      );
    },
    async deviceStatuses() {
      const rows = await db.all<Row>('SELECT * FROM device_status');
      return new Map(rows.map((r) => [String(r.device_id), { firmware: String(r.firmware), backlog: Number(r.backlog), reportedAt: Number(r.reported_at) }]));
    },
  };
}
