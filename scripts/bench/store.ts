// The reading log's figures: bytes per TAF 7 reading as the simulator's
// dlms-mbus meter fills it; how many readings a 64 KB partition holds; the
// XS computrons of an append and of boot recovery on a full partition; and
// the wear at the default settings: erases per sector per year and the
// flash's lifetime at 100,000 erase cycles.

import { readFileSync } from 'node:fs';
import { Simulation } from '../../simulator/runner';
import { NorFlash } from '../../simulator/world/flash';
import { XsWorker } from '../../hosts/xsnap/worker';
import { distFile } from '../../hosts/node/paths';
import { ReadingLog } from '../../src/store/reading-log';
import type { Entry, LogEntry } from '../../src/formats/entries';
import type { Row } from './report';

const SECTION = 'reading log';
const DAY = 86400000;
const WEEK = 7 * DAY;
const PARTITION = 64 * 1024;
const ERASE_CYCLES = 100000;

/** A week of the simulated meter's log entries, repeated `weeks` times, registers carried on. */
function repeatWeek(week: LogEntry[], weeks: number): Entry[] {
  const readings = week.filter((e) => e.type === 'reading');
  const first = readings[0];
  const last = readings[readings.length - 1];
  const out: Entry[] = [];
  for (let k = 0; k < weeks; k++) {
    for (const e of week) {
      if (e.type !== 'reading') continue;
      const values: typeof e.values = {};
      for (const [obis, v] of Object.entries(e.values)) {
        const perWeek = last.values[obis].value - first.values[obis].value;
        values[obis] = { value: v.value + k * perWeek, unit: v.unit };
      }
      const { seq: _seq, ...rest } = e;
      out.push({ ...rest, time: e.time + k * WEEK, values });
    }
  }
  return out;
}

async function xsFigures(): Promise<{ append: number; recovery: number; entries: number; liveSectors: number }> {
  const worker = XsWorker.start();
  try {
    await worker.evaluate(readFileSync(distFile('xs/store.js'), 'utf8'));
    const send = async (c: object) => {
      const r = await worker.command(new TextEncoder().encode(JSON.stringify(c)));
      return { compute: r.meter.compute, reply: JSON.parse(new TextDecoder().decode(r.reply)) };
    };
    await send({ t: 'prepare', n: 6000 });
    // 3,000 appends fill 40 KB: sector openings included, no erase yet.
    const fill = await send({ t: 'fill', n: 3000 });
    // 3,000 more wrap the ring: the partition is full, the oldest sectors erased.
    await send({ t: 'fill', n: 3000 });
    const recovery = await send({ t: 'recover' });
    const stats = (await send({ t: 'stats' })).reply as { entries: number; liveSectors: number };
    return { append: fill.compute / 3000, recovery: recovery.compute, entries: stats.entries, liveSectors: stats.liveSectors };
  } finally {
    await worker.close();
  }
}

export async function benchStore(): Promise<Row[]> {
  const rows: Row[] = [];
  // A simulated week of the default meter at the default settings (15 min, daily at midnight).
  const sim = new Simulation({ meter: 'dlms-mbus', seed: 1, from: Date.UTC(2025, 2, 3), days: 7, speed: 'max', faults: [] });
  const report = await sim.run();
  sim.world.flash.revive();
  const week = new ReadingLog(sim.world.flash).read(0, 1e9);
  rows.push({ section: SECTION, name: 'bytes per TAF 7 reading (dlms-mbus, 2 registers)', value: report.log.bytesPerReading, unit: 'bytes', note: 'a simulated week; headers and register sets included' });

  // A year of it, on a flash of the partition's size.
  const year = repeatWeek(week, 52);
  const flash = new NorFlash(PARTITION);
  const log = new ReadingLog(flash);
  let heldWhenFull = 0;
  for (const e of year) {
    const before = log.stats();
    log.append(e);
    if (!heldWhenFull && log.stats().evicted > before.evicted) heldWhenFull = before.entries;
  }
  const taf7PerDay = week.filter((e) => e.kind === 'taf7').length / 7;
  rows.push({ section: SECTION, name: 'entries a 64 KB partition holds', value: heldWhenFull, unit: 'entries', target: '>= 2910', note: `${(heldWhenFull / (taf7PerDay + 1)).toFixed(0)} days of TAF 7 + daily; 2,880 + 30 asked for` });
  const erases = flash.erases.reduce((a, b) => a + b, 0);
  const perSector = erases / flash.erases.length;
  rows.push({ section: SECTION, name: 'erases per sector per year (defaults)', value: perSector, unit: 'erases', note: `spread ${Math.min(...flash.erases)}..${Math.max(...flash.erases)} over ${flash.erases.length} sectors` });
  rows.push({ section: SECTION, name: 'flash lifetime at 100,000 erase cycles', value: Math.round(ERASE_CYCLES / perSector), unit: 'years' });

  const xs = await xsFigures();
  rows.push({ section: SECTION, name: 'XS: computrons per append', value: xs.append, unit: 'computrons', note: 'four registers, sector openings and cursor advances included' });
  rows.push({ section: SECTION, name: 'XS: boot recovery of a full partition', value: xs.recovery, unit: 'computrons', note: `${xs.entries} entries in ${xs.liveSectors} sectors` });
  return rows;
}
