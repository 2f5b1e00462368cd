// System port on the desktop: the host's heap, and a restart that really
// ends the simulated device's boot and starts the next (simulator/device.ts).

import { getHeapStatistics } from 'node:v8';
import type { SystemPort } from '../../src/ports/system';

export class SimSystem implements SystemPort {
  private readonly reboot: () => void;
  private readonly button: boolean;

  constructor(reboot: () => void, setupButton = false) {
    this.reboot = reboot;
    this.button = setupButton;
  }

  freeHeap(): number | null {
    const h = getHeapStatistics();
    return h.heap_size_limit - h.used_heap_size;
  }

  setupButtonHeld(): boolean {
    return this.button;
  }

  restart(): void {
    this.reboot();
  }
}
