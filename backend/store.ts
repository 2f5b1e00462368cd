// What the backend keeps: households, their devices and meters, the readings
// and gaps the devices uploaded, their event logs, what households set, and
// credentials (hashes only). Every process of a scaled-out backend works on
// the same database and keeps nothing of its own but caches.
//
// The store is made of parts by what the routes need (backend/stores/): each
// route plugin is given only the parts it uses. Store is all of them over one
// database, with one clock: no part reads the system clock itself.

import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from './clock';
import { migrate, openDb, type Sql } from './db';
import { bulkLinkStore, type BulkLinkStore } from './stores/bulk-links';
import { eventLogStore, type EventLogStore } from './stores/event-log';
import { liveStore, type LiveStore } from './stores/live';
import { readingStore, type ReadingStore } from './stores/readings';
import { registryStore, type RegistryStore } from './stores/registry';
import type { Row } from './stores/rows';
import { settingsStore, type SettingsStore } from './stores/settings';

export type { BulkLinkStore } from './stores/bulk-links';
export type { EventLogStore } from './stores/event-log';
export { LIVE_KEEP_MS, type LiveStore } from './stores/live';
export { MeterConflict, meterIdOf } from './stores/meters';
export { insertReadings, type ReadingStore } from './stores/readings';
export type { CredentialStore, RegistryStore } from './stores/registry';
export { METER_ROLES, type Device, type Household, type Meter, type MeterRole, type Role, type StoredGap, type StoredReading } from './stores/rows';
export type { SettingsStore } from './stores/settings';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export interface Store extends RegistryStore, ReadingStore, EventLogStore, LiveStore, SettingsStore, BulkLinkStore {
  readonly db: Sql;
  /** A server-side secret (the key that signs cursors and makes pseudonyms), created once and shared by every process. */
  secret(name: string): Promise<string>;
  close(): Promise<void>;
}

export const Store = {
  /** The database at `url`, created and migrated; `clock` stamps what is recorded (the system's unless given). */
  async open(url: string, clock: Clock = systemClock): Promise<Store> {
    const db = await openDb(url);
    await migrate(db);
    return {
      db,
      ...registryStore(db, clock),
      ...readingStore(db, clock),
      ...eventLogStore(db),
      ...liveStore(db),
      ...settingsStore(db, clock),
      ...bulkLinkStore(db, clock),
      async secret(name) {
        const rows = await db.all<Row>('SELECT value FROM secrets WHERE name = ?', [name]);
        if (rows.length) return rows[0].value as string;
        await db.run('INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32).toString('hex')]);
        return (await db.all<Row>('SELECT value FROM secrets WHERE name = ?', [name]))[0].value as string;
      },
      close: () => db.close(),
    };
  },
};
