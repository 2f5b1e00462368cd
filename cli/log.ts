// smgw log: what a simulated device's reading log holds (its flash image in
// the state directory), as JSON lines, with a summary on stderr.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NorFlash } from '../simulator/world/flash';
import { FLASH_SIZE, summariseLog } from '../simulator/runner';
import { ReadingLog } from '../src/store/reading-log';
import { entryJson } from '../src/store/json';
import { fail } from './usage';
import { command, parse } from './options';

export const LOG = command({
  name: 'smgw log',
  summary: "what a simulated device's reading log holds, as JSON lines, with a summary on stderr (docs/reading-log.md)",
  options: {
    state: { type: 'string', value: 'DIR', required: 'the directory `smgw sim --state` kept', description: 'the state directory of `smgw sim --state`' },
    from: { type: 'string', value: 'SEQ', default: '0', description: 'the first sequence number to show' },
    limit: { type: 'string', value: 'N', description: 'shows at most N entries, of all kinds, from --from (default: all)' },
    kind: { type: 'string', choices: ['taf7', 'daily', 'demand', 'gap', 'event'], description: 'only the quarter-hour, daily or on-demand readings, the gaps or the events' },
  },
  examples: ['smgw log --state .smgw-sim --kind daily', 'smgw log --state /tmp/dev --from 100 --limit 10'],
});

export function logCommand(argv: string[]): number {
  const args = parse(LOG, argv);
  if (!args) return 0;
  const { values } = args;
  const file = join(values.state, 'flash.bin');
  if (!existsSync(file)) fail(`no flash image in ${values.state}`);
  const from = Number(values.from);
  const limit = values.limit === undefined ? Number.MAX_SAFE_INTEGER : Number(values.limit);
  if (!Number.isInteger(from) || from < 0) fail('--from must be a sequence number');
  if (!Number.isInteger(limit) || limit < 1) fail('--limit must be a positive integer');
  const kind = values.kind;
  const flash = new NorFlash(FLASH_SIZE, file);
  try {
    const out: string[] = [];
    for (const e of new ReadingLog(flash).read(from, limit)) {
      if (kind === 'gap' || kind === 'event' ? e.type !== kind : kind !== undefined && (e.type !== 'reading' || e.kind !== kind)) continue;
      out.push(JSON.stringify(entryJson(e)));
    }
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    process.stderr.write(describeLog(summariseLog(flash)) + '\n');
  } finally {
    flash.close();
  }
  return 0;
}

export function describeLog(s: ReturnType<typeof summariseLog>): string {
  const r = s.readings;
  return (
    `reading log: ${s.entries} entries (${r.taf7} quarter-hour, ${r.daily} daily, ${r.demand} on demand, ` +
    `${s.gaps.entries} gap ${s.gaps.entries === 1 ? 'entry' : 'entries'} for ${s.gaps.boundaries} boundaries), ${s.bytesUsed} of ${s.bytesTotal} bytes, ` +
    `${s.bytesPerReading} bytes per entry; cursor ${s.cursor}; ${s.evicted} evicted, ${s.lost} of them before upload; ` +
    `${s.events} event${s.events === 1 ? '' : 's'} (${s.eventBytes} bytes), chain ${s.chain.ok ? 'ok' : `broken at entry ${s.chain.break!.seq} (${s.chain.break!.reason}: ${s.chain.break!.detail})`}`
  );
}
