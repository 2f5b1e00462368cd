// The firmware's entry point on lin, Moddable's desktop simulator (mcsim): the
// same app as on the ESP32, with stand-ins for what the desktop lacks: a file
// for the flash partition, no UART line format to set on a pty, a file for the
// setup button, a process restart, and NVS under the `preference` API (sdk/preference.ts).
// Files are relative to the folder mcsim runs in.

import heapStats from 'xs-heap';
import Timer from 'timer';
import { boot } from '../boot';
import { device } from '../config';
import { setupButtonHeld } from './button';
import { FileFlash } from './flash';
import { LinOta } from './ota';
import { linLine } from './line';
import { restart } from './restart';

/** How often the lin build traces the XS heap's figures (the measurement in docs/esp32.md reads them). */
const HEAP_TRACE_MS = 1000;

function traceHeap(): void {
  const h = heapStats();
  trace(`xs-heap: slots ${h.slots} peak ${h.slotsPeak} reserved ${h.slotsReserved} (${h.slotBytes} B each); chunks ${h.chunks} peak ${h.chunksPeak} reserved ${h.chunksReserved}\n`);
}

export default function main(): void {
  traceHeap();
  Timer.repeat(traceHeap, HEAP_TRACE_MS);
  // The peaks count from boot: trace them before the process starts again, or they are lost.
  const restartTraced = () => {
    traceHeap();
    restart();
  };
  boot({ flash: new FileFlash(device.readingsFile, device.readingsSize), ota: new LinOta(restartTraced), line: linLine, setupButtonHeld: setupButtonHeld(), restart: restartTraced });
}
