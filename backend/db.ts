// The database behind the backend: SQLite (one file, WAL, fsync on commit:
// a batch the backend acknowledged survives a power cut) embedded, or
// PostgreSQL at scale. One SQL text for both where the dialects agree
// ("?" placeholders become $1.. for PostgreSQL); the readings table is
// partitioned by month in PostgreSQL.

import Database from 'better-sqlite3';
import pg from 'pg';

type Dialect = 'sqlite' | 'postgres';

export interface Sql {
  readonly dialect: Dialect;
  /** Rows of a query with "?" placeholders. */
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement; the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `sqlite:FILE` (or `sqlite::memory:`), or a `postgres://` URL. */
export function openDb(url: string): Promise<Sql> {
  if (url.startsWith('sqlite:')) return Promise.resolve(new SqliteDb(url.slice('sqlite:'.length)));
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return PostgresDb.open(url);
  throw new Error(`--db must be sqlite:FILE or postgres://...; got "${url}"`);
}

class SqliteDb implements Sql {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** The open transaction, until it ends: statements from outside it wait. */
  private active: Promise<void> | null = null;
  /** Statements of the open transaction go through this, without waiting. */
  private readonly inside: Sql;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // Every commit reaches the disk before it returns: an acknowledged batch is durable.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.inside = {
      dialect: 'sqlite',
      all: <T>(sql: string, params: unknown[] = []) => Promise.resolve(this.exec(sql, params) as T[]),
      run: (sql: string, params: unknown[] = []) => Promise.resolve(this.prepare(sql).run(...params).changes),
      transaction: () => Promise.reject(new Error('nested transaction')),
      close: () => Promise.resolve(),
    };
  }

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private exec(sql: string, params: unknown[]): unknown[] {
    const s = this.prepare(sql);
    if (s.reader) return s.all(...params);
    s.run(...params);
    return [];
  }

  // One connection, and requests interleave at every await: outside statements wait for an open
  // transaction. Between finding no transaction open and running (or opening one) there is no await, so
  // nothing can slip in.

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    while (this.active) await this.active;
    return this.exec(sql, params) as T[];
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    while (this.active) await this.active;
    return this.prepare(sql).run(...params).changes;
  }

  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    while (this.active) await this.active;
    let end!: () => void;
    this.active = new Promise<void>((resolve) => (end = resolve));
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = await work(this.inside);
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    } finally {
      this.active = null;
      end();
    }
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => '$' + ++n);
}

class PostgresClient implements Sql {
  readonly dialect = 'postgres' as const;
  constructor(private readonly client: pg.PoolClient) {}

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query(numbered(sql), params)).rows as T[];
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.client.query(numbered(sql), params)).rowCount ?? 0;
  }

  transaction<T>(): Promise<T> {
    throw new Error('nested transaction');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

class PostgresDb implements Sql {
  readonly dialect = 'postgres' as const;
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresDb> {
    // BIGINT (int8) columns hold ms timestamps and sequence numbers: well within 2^53.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const db = new PostgresDb(pool);
    await pool.query('SELECT 1');
    return db;
  }

  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(numbered(sql), params)).rows as T[];
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.pool.query(numbered(sql), params)).rowCount ?? 0;
  }

  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(new PostgresClient(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Creates what is missing. Idempotent: every process runs it at start. */
export async function migrate(db: Sql): Promise<void> {
  const pgOnly = db.dialect === 'postgres';
  const statements = [
    `CREATE TABLE IF NOT EXISTS households (id TEXT PRIMARY KEY, name TEXT NOT NULL, zone TEXT NOT NULL, created_at BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS devices (
       id TEXT PRIMARY KEY, household_id TEXT NOT NULL REFERENCES households(id), auth TEXT NOT NULL,
       cert_fingerprint TEXT UNIQUE, token_hash TEXT UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT,
       last_seq BIGINT NOT NULL DEFAULT 0, last_seen BIGINT)`,
    `CREATE TABLE IF NOT EXISTS meters (id TEXT PRIMARY KEY, household_id TEXT NOT NULL REFERENCES households(id), device_id TEXT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL)`,
    pgOnly
      ? `CREATE TABLE IF NOT EXISTS readings (meter_id TEXT NOT NULL, kind TEXT NOT NULL, time BIGINT NOT NULL, capture_offset INTEGER NOT NULL, source TEXT NOT NULL, register_values TEXT NOT NULL, PRIMARY KEY (meter_id, kind, time)) PARTITION BY RANGE (time)`
      : `CREATE TABLE IF NOT EXISTS readings (meter_id TEXT NOT NULL, kind TEXT NOT NULL, time BIGINT NOT NULL, capture_offset INTEGER NOT NULL, source TEXT NOT NULL, register_values TEXT NOT NULL, PRIMARY KEY (meter_id, kind, time)) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS gaps (meter_id TEXT NOT NULL, kind TEXT NOT NULL, first BIGINT NOT NULL, last BIGINT NOT NULL, count INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (meter_id, kind, first))`,
    `CREATE TABLE IF NOT EXISTS credentials (token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT, name TEXT NOT NULL, created_at BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS bulk_links (id TEXT PRIMARY KEY, claim TEXT NOT NULL, expires BIGINT NOT NULL)`,
    // The devices' event logs: each event as uploaded, with its chain hash and how it linked to the one before
    // ('ok', 'start' when nothing before it was known, 'edited' or 'removed' where the chain broke).
    `CREATE TABLE IF NOT EXISTS events (
       device_id TEXT NOT NULL, seq BIGINT NOT NULL, number BIGINT NOT NULL, kind TEXT NOT NULL, time BIGINT, uptime BIGINT NOT NULL,
       message TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, link TEXT NOT NULL, PRIMARY KEY (device_id, seq))`,
    // Per device: the last verified event (continuity across batches) and the first break found, kept.
    `CREATE TABLE IF NOT EXISTS event_chains (
       device_id TEXT PRIMARY KEY, events BIGINT NOT NULL, last_seq BIGINT NOT NULL, last_number BIGINT NOT NULL, last_hash TEXT NOT NULL,
       breaks BIGINT NOT NULL, break_seq BIGINT, break_reason TEXT, break_detail TEXT, broken_at BIGINT)`,
    // A household's tariff for the dashboard's cost figures (JSON, validated by backend/dashboard.ts).
    `CREATE TABLE IF NOT EXISTS tariffs (household_id TEXT PRIMARY KEY REFERENCES households(id), tariff TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
    // A household's alert thresholds (JSON, validated by backend/dashboard.ts).
    `CREATE TABLE IF NOT EXISTS alert_settings (household_id TEXT PRIMARY KEY REFERENCES households(id), settings TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
    // What a meter measures, where the household said so: 'grid' (the default, no row) or 'generation' (a PV meter).
    `CREATE TABLE IF NOT EXISTS meter_roles (meter_id TEXT PRIMARY KEY REFERENCES meters(id), role TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
    // What each device last said of itself (firmware, backlog), with every delivery and live push.
    `CREATE TABLE IF NOT EXISTS device_status (device_id TEXT PRIMARY KEY, firmware TEXT NOT NULL, backlog BIGINT NOT NULL, reported_at BIGINT NOT NULL)`,
    // TAF 14 values from the live channel: the last minutes per meter only (pruned as new ones arrive), JSON per row.
    `CREATE TABLE IF NOT EXISTS live_values (meter_id TEXT NOT NULL, time BIGINT NOT NULL, device_id TEXT NOT NULL, live TEXT NOT NULL, PRIMARY KEY (meter_id, time))`,
    // Until when somebody has the meter's Live view open: the live push's answer tells the device to push often.
    `CREATE TABLE IF NOT EXISTS live_watch (meter_id TEXT PRIMARY KEY, until BIGINT NOT NULL)`,
  ];
  await createMissing(db, statements);
}

/**
 * Runs "CREATE ... IF NOT EXISTS" statements in one transaction. On PostgreSQL it first takes a
 * transaction-scoped advisory lock, so that backend workers starting together on one database
 * create each object once: IF NOT EXISTS alone races (both see nothing, the second insert into the
 * catalog fails with a unique violation on pg_type), which a test with two workers hit under load.
 */
export async function createMissing(db: Sql, statements: string[]): Promise<void> {
  await db.transaction(async (tx) => {
    if (db.dialect === 'postgres') await tx.all('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK]);
    for (const s of statements) await tx.run(s);
  });
}

/** The advisory lock key of schema changes ("smgw" in ASCII). */
const SCHEMA_LOCK = 0x736d6777;

/** PostgreSQL: the monthly partition of `readings` that holds `time` exists afterwards. */
export async function ensurePartition(db: Sql, time: number, known: Set<string>): Promise<void> {
  if (db.dialect !== 'postgres') return;
  const d = new Date(time);
  const from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const name = `readings_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  if (known.has(name)) return;
  const to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  await createMissing(db, [`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF readings FOR VALUES FROM (${from}) TO (${to})`]);
  known.add(name);
}
