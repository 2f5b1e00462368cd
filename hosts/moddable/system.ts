// System port on Moddable: the XS heap's figures from the native xs-heap
// module, and the two things that differ by platform, given by it: whether the
// setup button was held at boot, and how to restart.

import heapStats from 'xs-heap';
import type { HeapFigures, SystemPort } from '../../src/ports/system';

export class ModdableSystem implements SystemPort {
  private readonly held: boolean;
  private readonly restartDevice: () => void;

  constructor(setupButtonHeld: boolean, restart: () => void) {
    this.held = setupButtonHeld;
    this.restartDevice = restart;
  }

  heap(): HeapFigures {
    const h = heapStats();
    return { slotsUsed: h.slots, slotsTotal: h.slotsReserved, chunkBytesUsed: h.chunks, chunkBytesTotal: h.chunksReserved };
  }

  setupButtonHeld(): boolean {
    return this.held;
  }

  restart(): void {
    this.restartDevice();
  }
}
