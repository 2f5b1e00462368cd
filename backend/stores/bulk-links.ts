// Stored bulk-download queries: the link names one, so that any process of
// a scaled-out backend can serve it.

import type { Clock } from '../clock';
import type { Sql } from '../db';
import type { Row } from './rows';

export interface BulkLinkStore {
  /** A stored download query; expired ones older than a day are cleared on the way. */
  createBulkLink(id: string, claim: string, expires: number): Promise<void>;
  bulkLink(id: string): Promise<{ claim: string; expires: number } | null>;
}

export function bulkLinkStore(db: Sql, clock: Clock): BulkLinkStore {
  return {
    async createBulkLink(id, claim, expires) {
      await db.run('DELETE FROM bulk_links WHERE expires < ?', [clock() - 86400000]);
      await db.run('INSERT INTO bulk_links (id, claim, expires) VALUES (?, ?, ?)', [id, claim, expires]);
    },
    async bulkLink(id) {
      const rows = await db.all<Row>('SELECT claim, expires FROM bulk_links WHERE id = ?', [id]);
      return rows.length ? { claim: rows[0].claim as string, expires: Number(rows[0].expires) } : null;
    },
  };
}
