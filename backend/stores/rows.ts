// Rows as the database gives them, and the record types they become.

import type { SeriesKind } from '../../src/formats/entries';

export type Row = Record<string, unknown>;

export type Role = 'admin' | 'household' | 'research' | 'device';

export interface Credential {
  kind: Role;
  /** The household (household), the device (device); null for admin and research. */
  subject: string | null;
  name: string;
}

export interface Household {
  id: string;
  name: string;
  zone: string;
}

export interface Device {
  id: string;
  householdId: string;
  auth: 'certificate' | 'token';
  certFingerprint: string | null;
  createdAt: number;
  revokedAt: number | null;
  lastSeq: number;
  lastSeen: number | null;
}

/** What a meter measures: the household's grid connection, or the output of its PV system (a generation meter). */
export type MeterRole = 'grid' | 'generation';
export const METER_ROLES: readonly MeterRole[] = ['grid', 'generation'];

export interface Meter {
  id: string;
  householdId: string;
  deviceId: string;
  firstSeen: number;
  lastSeen: number;
}

export interface StoredReading {
  meterId: string;
  kind: SeriesKind;
  time: number;
  offset: number;
  source: 'sntp' | 'meter';
  values: { [obis: string]: { value: number; unit: string } };
}

export interface StoredGap {
  meterId: string;
  kind: SeriesKind;
  first: number;
  last: number;
  count: number;
  reason: string;
}

export interface DeviceStatus {
  firmware: string;
  backlog: number;
  reportedAt: number;
}

const orNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export const deviceOf = (r: Row): Device => ({
  id: r.id as string,
  householdId: r.household_id as string,
  auth: r.auth as Device['auth'],
  certFingerprint: (r.cert_fingerprint as string | null) ?? null,
  createdAt: Number(r.created_at),
  revokedAt: orNull(r.revoked_at),
  lastSeq: Number(r.last_seq),
  lastSeen: orNull(r.last_seen),
});

export const meterOf = (r: Row): Meter => ({
  id: r.id as string,
  householdId: r.household_id as string,
  deviceId: r.device_id as string,
  firstSeen: Number(r.first_seen),
  lastSeen: Number(r.last_seen),
});

export const readingOf = (r: Row): StoredReading => ({
  meterId: r.meter_id as string,
  kind: r.kind as SeriesKind,
  time: Number(r.time),
  offset: Number(r.capture_offset),
  source: r.source as StoredReading['source'],
  values: JSON.parse(r.register_values as string),
});

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
