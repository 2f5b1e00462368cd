// The benchmark's output: rows printed as a table and kept as JSON.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Row {
  section: string;
  name: string;
  value: number;
  unit: string;
  /** A target the figure must meet, when the project has one ("<= 100", ">= 3"). */
  target?: string;
  note?: string;
}

export function meets(row: Row): boolean | null {
  if (!row.target) return null;
  const m = /^(<=|>=|<|>|==)\s*(-?[\d.]+)$/.exec(row.target);
  if (!m) return null;
  const t = Number(m[2]);
  switch (m[1]) {
    case '<=': return row.value <= t;
    case '>=': return row.value >= t;
    case '<': return row.value < t;
    case '>': return row.value > t;
    default: return row.value === t;
  }
}

function format(v: number): string {
  if (Number.isNaN(v)) return 'n/a';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(Math.abs(v) >= 10 ? 1 : 2);
}

export function printTable(rows: Row[]): void {
  const lines = rows.map((r) => {
    const ok = meets(r);
    return [r.section, r.name, format(r.value), r.unit, r.target ? `${r.target} ${ok ? 'ok' : 'MISSED'}` : '', r.note ?? ''];
  });
  const header = ['section', 'measure', 'value', 'unit', 'target', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(line(l));
}

export function writeJson(dir: string, rows: Row[], meta: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const body = JSON.stringify({ ...meta, rows: rows.map((r) => ({ ...r, met: meets(r) })) }, null, 2) + '\n';
  const file = join(dir, `bench-${stamp}.json`);
  writeFileSync(file, body);
  writeFileSync(join(dir, 'latest.json'), body);
  return file;
}
