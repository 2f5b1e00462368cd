// The simulator's speed: simulated seconds per wall second at --speed max,
// one meter kind over a simulated week, on both engines; and the XS
// computrons per telegram of the whole app path (UART chunk -> framer ->
// decoder -> reading, timers included).

import { Simulation } from '../../simulator/runner';
import { xsEngine } from '../../hosts/sim/xs-engine';
import type { MeterKind } from '../../simulator/meters/index';
import type { Row } from './report';

const SECTION = 'simulator';
const DAY = 86400000;

export async function benchSimulator(options: { days: number; meter: MeterKind }): Promise<Row[]> {
  const rows: Row[] = [];
  const period = `${options.days} simulated day${options.days === 1 ? '' : 's'}`;
  for (const engine of ['node', 'xs'] as const) {
    const sim = new Simulation({
      meter: options.meter,
      seed: 1,
      from: Date.UTC(2025, 2, 3),
      until: Date.UTC(2025, 2, 3) + options.days * DAY,
      speed: 'max',
      faults: [],
      engine: engine === 'xs' ? xsEngine() : undefined,
      engineName: engine,
    });
    const report = await sim.run();
    rows.push({ section: SECTION, name: `${options.meter}, ${engine} engine: speed at --speed max`, value: report.speedup, unit: 'sim s / wall s', note: `${period}, ${report.telegrams.sent} telegrams, ${report.wallSeconds.toFixed(1)} s` });
    if (report.computrons) {
      const chunks = report.computrons.byEvent['serial.open'];
      rows.push({ section: SECTION, name: `${options.meter}, XS: computrons per telegram, whole app path`, value: report.computrons.perTelegram, unit: 'computrons', note: 'UART chunks, framer, decoder, reading, timers' });
      if (chunks) rows.push({ section: SECTION, name: `${options.meter}, XS: computrons per UART chunk`, value: chunks.computrons / chunks.events, unit: 'computrons', note: `${chunks.events} chunks` });
    }
  }
  return rows;
}
