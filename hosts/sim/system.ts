// System port on the desktop: no heap figures (the firmware runs in Node's
// heap, or in an xsnap engine sized otherwise than the device, so neither says
// what the device would use), and a restart that really ends the simulated
// device's boot and starts the next (simulator/device.ts).

import type { HeapFigures, SystemPort } from '../../src/ports/system';

export class SimSystem implements SystemPort {
  private readonly reboot: () => void;
  private readonly button: boolean;

  constructor(reboot: () => void, setupButton = false) {
    this.reboot = reboot;
    this.button = setupButton;
  }

  heap(): HeapFigures | undefined {
    return undefined;
  }

  setupButtonHeld(): boolean {
    return this.button;
  }

  restart(): void {
    this.reboot();
  }
}
