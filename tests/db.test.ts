// The SQLite connection under concurrent callers: transactions opened in the
// same tick wait for each other, and no outside statement lands inside one.

import { describe, expect, it } from 'vitest';
import { openDb } from '../backend/db';

describe('the SQLite database', () => {
  it('runs concurrent transactions one after the other, each whole', async () => {
    const db = await openDb('sqlite::memory:');
    await db.run('CREATE TABLE t (n INTEGER)');
    const txs = Array.from({ length: 20 }, (_, k) =>
      db.transaction(async (tx) => {
        for (let i = 0; i < 5; i++) await tx.run('INSERT INTO t (n) VALUES (?)', [k]);
        if (k % 4 === 3) throw new Error('rolled back');
        return k;
      }),
    );
    // Statements from outside, started meanwhile, wait their turn.
    const outside = Array.from({ length: 10 }, () => db.run('INSERT INTO t (n) VALUES (?)', [-1]));
    const results = await Promise.allSettled([...txs, ...outside]);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.message)).toEqual(Array(5).fill('rolled back'));
    const rows = await db.all<{ n: number; c: number }>('SELECT n, COUNT(*) AS c FROM t GROUP BY n ORDER BY n');
    // The 15 committed transactions with all 5 rows each, the 5 rolled back with none, and the 10 outside rows.
    expect(rows).toEqual([{ n: -1, c: 10 }, ...Array.from({ length: 20 }, (_, k) => k).filter((k) => k % 4 !== 3).map((n) => ({ n, c: 5 }))]);
    await db.close();
  });
});

describe('the PostgreSQL schema', async () => {
  const { freshDatabase, pgReachable, PG_ADMIN_URL } = await import('./support/pg');
  if (!(await pgReachable())) {
    console.log(`PostgreSQL is not reachable at ${PG_ADMIN_URL}: its schema test is not run here`);
    return;
  }
  it('is created once when several backend processes start on one empty database at the same time', async () => {
    const { migrate, ensurePartition } = await import('../backend/db');
    const { migrateReleases } = await import('../backend/releases');
    const database = await freshDatabase();
    // One pool per process; each migrates as a starting worker does, and makes the same month's partition.
    const dbs = await Promise.all(Array.from({ length: 6 }, () => openDb(database.url)));
    try {
      await Promise.all(dbs.map(async (db) => {
        await migrate(db);
        await migrateReleases(db);
        await ensurePartition(db, Date.UTC(2025, 5, 2), new Set());
      }));
      const tables = await dbs[0].all<{ n: string }>("SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('readings_2025_06', 'releases', 'rollouts', 'households')");
      expect(Number(tables[0].n)).toBe(4);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await database.drop();
    }
  });
});
