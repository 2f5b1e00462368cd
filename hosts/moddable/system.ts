// System port on Moddable: the XS heap's figures from the native xs-heap
// module, and the two things that differ by platform, given by it: whether the
// setup button was held at boot, and how to restart.

import heapStats from 'xs-heap';
import type { SystemPort } from '../../src/ports/system';

export class ModdableSystem implements SystemPort {
  private readonly held: boolean;
  private readonly restartDevice: () => void;

  constructor(setupButtonHeld: boolean, restart: () => void) {
    this.held = setupButtonHeld;
    this.restartDevice = restart;
  }

  freeHeap(): number | null {
    const h = heapStats();
    return (h.slotsReserved - h.slots) * h.slotBytes + (h.chunksReserved - h.chunks);
  }

  setupButtonHeld(): boolean {
    return this.held;
  }

  restart(): void {
    this.restartDevice();
  }
}
