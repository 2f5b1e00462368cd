// The XS heap the firmware needs, as `npm run test:moddable` measured it in
// Moddable's simulator (docs/esp32.md, "Memory, measured"): read from the
// figures that run wrote, printed here beside the others when MODDABLE is set.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../../hosts/node/paths';
import type { Row } from './report';

const SECTION = 'XS heap in mcsim (npm run test:moddable)';

export function benchModdable(): Row[] {
  if (!process.env.MODDABLE) return [];
  const rows: Row[] = [];
  for (const [file, what] of [['moddable-heap-measured.json', 'growing heap'], ['moddable-heap.json', 'fixed heap']] as const) {
    const path = join(repositoryRoot(), 'bench-results', file);
    if (!existsSync(path)) {
      rows.push({ section: SECTION, name: `${what}: slots`, value: NaN, unit: 'slots', note: `not measured: run npm run test:moddable${what === 'growing heap' ? ' -- --measure' : ''}` });
      continue;
    }
    const f = JSON.parse(readFileSync(path, 'utf8')) as { slotsPeak: number; slotsReserved: number; slotBytes: number; chunksPeak: number; chunksReserved: number; at: string };
    rows.push({ section: SECTION, name: `${what}: slots used at most`, value: f.slotsPeak, unit: 'slots', note: `${f.slotBytes} B each on lin, 16 B on the ESP32 (${((f.slotsPeak * 16) / 1024).toFixed(0)} KB); run ${f.at}` });
    rows.push({ section: SECTION, name: `${what}: slots reserved`, value: f.slotsReserved, unit: 'slots' });
    rows.push({ section: SECTION, name: `${what}: chunk bytes used at most`, value: f.chunksPeak / 1024, unit: 'KB', note: 'an upper bound for the ESP32' });
    rows.push({ section: SECTION, name: `${what}: chunk bytes reserved`, value: f.chunksReserved / 1024, unit: 'KB' });
  }
  return rows;
}
