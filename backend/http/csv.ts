// CSV answers of the query and dashboard routes (RFC 4180, CRLF lines).

import type { FastifyRequest } from 'fastify';

/** A cell quoted where it must be, and where a spreadsheet would read it as a formula (=, +, -, @). */
function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csv(rows: unknown[][]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** CSV when the query says format=csv, or says no format and the client accepts text/csv. */
export function wantsCsv(request: FastifyRequest, format?: string): boolean {
  return format === 'csv' || (!format && /text\/csv/.test(request.headers.accept ?? ''));
}
