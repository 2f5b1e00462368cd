// Entry point of the reading-log benchmark inside XS (dist/xs/store.js): the
// firmware's ReadingLog on a RAM flash of the partition's size, driven by
// JSON commands; the Node side reads the computrons of each command.
//   {"t":"fill","n":N}   append the next N entries of the workload (a cursor advance every 96)
//   {"t":"recover"}      boot recovery: open the log again on the same flash
//   {"t":"stats"}        the log's figures

import { ReadingLog } from '../../src/store/reading-log';
import { workload } from '../../simulator/log-workload';
import type { Entry } from '../../src/formats/entries';
import { RamFlash } from './ram-flash';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const flash = new RamFlash(64 * 1024);
let log = new ReadingLog(flash);
let entries: Entry[] = [];
let next = 0;

globalThis.handleCommand = (message: ArrayBuffer): ArrayBuffer => {
  const c = JSON.parse(decoder.decode(message)) as { t: string; n?: number };
  let result: unknown = null;
  if (c.t === 'prepare') {
    entries = workload(c.n!, 5);
  } else if (c.t === 'fill') {
    for (let i = 0; i < c.n!; i++) {
      const seq = log.append(entries[next++ % entries.length]);
      if (seq % 96 === 0) log.ack(seq - 48);
    }
  } else if (c.t === 'recover') {
    log = new ReadingLog(flash);
  } else if (c.t === 'stats') {
    result = { ...log.stats(), erases: flash.erases };
  }
  return encoder.encode(JSON.stringify(result)).buffer as ArrayBuffer;
};
