// Firmware releases and their rollout (docs/ota.md). The admin uploads a
// signed image (`smgw release sign`) and rolls it out to all devices, to one
// household, or to a percentage of devices (each device falls in a fixed
// bucket of 100 by a hash of its id and the release, so that widening 10% to
// 50% keeps the first 10%). A device learns of the update in its ingest
// acknowledgement and downloads it in HTTP Range pieces, authenticated by its
// certificate as for the ingest. An older version than the device runs is
// offered only when the admin forced the downgrade, which the rollout records.
//
// The backend is not trusted with the release key: it checks that an upload
// is a well-formed image whose hash matches its header, and the device checks
// the signature. A backend taken over can withhold updates, not forge one.

import { createHash } from 'node:crypto';
import { toHex } from '../src/codec/bytes';
import { compareVersions, HEADER_LENGTH, ImageError, parseHeader, parseVersion, versionText } from '../src/ota/image';
import { HttpError } from './auth';
import { createMissing, type Sql } from './db';
import { newId, type Device } from './store';

/** A signed image: the header, 16 KB of slack and a 4 MB flash's largest app slot. */
export const MAX_IMAGE = 4 * 1024 * 1024;
export const FIRMWARE_CONTENT_TYPE = 'application/vnd.smgw.firmware';

export interface Release {
  id: string;
  version: string;
  hardware: string;
  size: number;
  sha256: string;
  keyId: string;
  createdAt: number;
}

export type RolloutTarget = { all: true } | { householdId: string } | { percent: number };

export interface Rollout {
  id: string;
  releaseId: string;
  target: RolloutTarget;
  /** The admin forced this release on devices that run a newer (or the same) version. */
  downgrade: boolean;
  by: string;
  createdAt: number;
  stoppedAt: number | null;
}

export interface Offer {
  release: string;
  version: string;
  size: number;
  downgrade: boolean;
}

type Row = Record<string, unknown>;

export async function migrateReleases(db: Sql): Promise<void> {
  const blob = db.dialect === 'postgres' ? 'BYTEA' : 'BLOB';
  await createMissing(db, [
    `CREATE TABLE IF NOT EXISTS releases (id TEXT PRIMARY KEY, version TEXT NOT NULL, hardware TEXT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, key_id TEXT NOT NULL, image ${blob} NOT NULL, created_at BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS rollouts (id TEXT PRIMARY KEY, release_id TEXT NOT NULL REFERENCES releases(id), target TEXT NOT NULL, household_id TEXT, percent INTEGER, downgrade INTEGER NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL, stopped_at BIGINT)`,
  ]);
}

/** Which of 100 buckets a device falls in for a release (FNV-1a of both ids). */
export function bucketOf(deviceId: string, releaseId: string): number {
  let h = 0x811c9dc5;
  for (const c of deviceId + '/' + releaseId) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h % 100;
}

function releaseOf(r: Row): Release {
  return { id: r.id as string, version: r.version as string, hardware: r.hardware as string, size: Number(r.size), sha256: r.sha256 as string, keyId: r.key_id as string, createdAt: Number(r.created_at) };
}

function rolloutOf(r: Row): Rollout {
  const target: RolloutTarget = r.target === 'household' ? { householdId: r.household_id as string } : r.target === 'percent' ? { percent: Number(r.percent) } : { all: true };
  return { id: r.id as string, releaseId: r.release_id as string, target, downgrade: Number(r.downgrade) === 1, by: r.created_by as string, createdAt: Number(r.created_at), stoppedAt: r.stopped_at === null || r.stopped_at === undefined ? null : Number(r.stopped_at) };
}

export class Releases {
  private readonly db: Sql;
  /** The last images served, by release: a download is a hundred range requests for the same bytes. */
  private readonly cache = new Map<string, Uint8Array>();

  constructor(db: Sql) {
    this.db = db;
  }

  /** Stores a signed image; throws HttpError 400/409 when it is not one or is there already. */
  async add(file: Uint8Array, now: number): Promise<Release> {
    let h;
    try {
      h = parseHeader(file);
    } catch (e) {
      if (e instanceof ImageError) throw new HttpError(400, e.message);
      throw e;
    }
    if (file.length !== HEADER_LENGTH + h.size) throw new HttpError(400, `the header says ${h.size} image bytes, the file has ${file.length - HEADER_LENGTH}`);
    const sha = createHash('sha256').update(file.subarray(HEADER_LENGTH)).digest('hex');
    if (sha !== toHex(h.sha256)) throw new HttpError(400, 'the image does not have the SHA-256 its header gives: it was altered after signing');
    const existing = await this.db.all<Row>('SELECT id FROM releases WHERE sha256 = ? AND version = ? AND hardware = ?', [sha, versionText(h.version), h.hardware]);
    if (existing.length) throw new HttpError(409, `this image is release ${existing[0].id as string} already`);
    const release: Release = { id: newId('fw'), version: versionText(h.version), hardware: h.hardware, size: h.size, sha256: sha, keyId: toHex(h.keyId), createdAt: now };
    await this.db.run('INSERT INTO releases (id, version, hardware, size, sha256, key_id, image, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      release.id, release.version, release.hardware, release.size, release.sha256, release.keyId, Buffer.from(file), now,
    ]);
    return release;
  }

  async list(): Promise<Release[]> {
    return (await this.db.all<Row>('SELECT id, version, hardware, size, sha256, key_id, created_at FROM releases ORDER BY created_at, id')).map(releaseOf);
  }

  async release(id: string): Promise<Release | null> {
    const rows = await this.db.all<Row>('SELECT id, version, hardware, size, sha256, key_id, created_at FROM releases WHERE id = ?', [id]);
    return rows.length ? releaseOf(rows[0]) : null;
  }

  /** The signed file (header and image). */
  async file(id: string): Promise<Uint8Array | null> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const rows = await this.db.all<Row>('SELECT image FROM releases WHERE id = ?', [id]);
    if (!rows.length) return null;
    const b = rows[0].image as Buffer;
    const file = new Uint8Array(b.buffer, b.byteOffset, b.length);
    this.cache.set(id, file);
    if (this.cache.size > 2) this.cache.delete(this.cache.keys().next().value as string);
    return file;
  }

  async startRollout(r: Omit<Rollout, 'id' | 'stoppedAt'>): Promise<Rollout> {
    const rollout: Rollout = { ...r, id: newId('ro'), stoppedAt: null };
    const t = r.target;
    await this.db.run('INSERT INTO rollouts (id, release_id, target, household_id, percent, downgrade, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      rollout.id, r.releaseId, 'all' in t ? 'all' : 'householdId' in t ? 'household' : 'percent', 'householdId' in t ? t.householdId : null, 'percent' in t ? t.percent : null, r.downgrade ? 1 : 0, r.by, r.createdAt,
    ]);
    return rollout;
  }

  async stopRollout(id: string, now: number): Promise<boolean> {
    return (await this.db.run('UPDATE rollouts SET stopped_at = ? WHERE id = ? AND stopped_at IS NULL', [now, id])) > 0;
  }

  async rollouts(): Promise<Rollout[]> {
    return (await this.db.all<Row>('SELECT * FROM rollouts ORDER BY created_at, id')).map(rolloutOf);
  }

  /**
   * The update a device is offered, given the version it reports: the newest
   * running rollout that reaches it, when its release differs from what the
   * device runs and is newer (or the admin forced the downgrade).
   */
  async offerFor(device: Device, firmware: string | null): Promise<Offer | null> {
    const rows = await this.db.all<Row>(
      'SELECT r.*, x.version, x.size FROM rollouts r JOIN releases x ON x.id = r.release_id WHERE r.stopped_at IS NULL ORDER BY r.created_at DESC, r.id DESC',
    );
    const running = firmware ? parseVersion(firmware) : null;
    for (const row of rows) {
      const rollout = rolloutOf(row);
      const t = rollout.target;
      const reaches = 'all' in t || ('householdId' in t ? t.householdId === device.householdId : bucketOf(device.id, rollout.releaseId) < t.percent);
      if (!reaches) continue;
      const version = parseVersion(row.version as string);
      if (running && version) {
        const order = compareVersions(version, running);
        if (order === 0 || (order < 0 && !rollout.downgrade)) return null;
      }
      return { release: rollout.releaseId, version: row.version as string, size: Number(row.size), downgrade: rollout.downgrade };
    }
    return null;
  }

  /** Each device's newest update event (the device view's "update" column). */
  async lastUpdateEvents(): Promise<Map<string, { seq: number; time: number | null; message: string }>> {
    const rows = await this.db.all<Row>(
      "SELECT e.device_id, e.seq, e.time, e.message FROM events e JOIN (SELECT device_id, MAX(seq) AS seq FROM events WHERE kind = 'update' GROUP BY device_id) m ON m.device_id = e.device_id AND m.seq = e.seq",
    );
    return new Map(rows.map((r) => [r.device_id as string, { seq: Number(r.seq), time: r.time === null || r.time === undefined ? null : Number(r.time), message: r.message as string }]));
  }
}

/** `bytes=a-b` (or `bytes=a-`) within `size`, or null when the header asks for something else. */
export function parseRange(header: string | undefined, size: number): { from: number; to: number } | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^bytes=(\d{1,10})-(\d{0,10})$/.exec(header.trim());
  if (!m) return 'unsatisfiable';
  const from = Number(m[1]);
  const to = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (from >= size || to < from) return 'unsatisfiable';
  return { from, to };
}
