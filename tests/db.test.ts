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
