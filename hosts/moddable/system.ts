// System port on the ESP32: free memory from Moddable's instrumentation, the
// setup button (the DevKit's BOOT button, GPIO 0, low while held) read once at
// boot, and a restart through the global System of Moddable's ECMA-419 io
// manifest (esp_restart underneath). On esp32 that manifest registers the code
// as the module "system" and sets globalThis.System: there is no module
// "embedded:io/system" to import, though the typings declare one.

import Instrumentation from 'instrumentation';
import Digital from 'embedded:io/digital';
import type { SystemPort } from '../../src/ports/system';

export class Esp32System implements SystemPort {
  private readonly held: boolean;
  private readonly freeMemory: number | undefined = Instrumentation.map('System Free Memory');

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

  freeHeap(): number | null {
    return this.freeMemory === undefined ? null : (Instrumentation.get(this.freeMemory) ?? null);
  }

  setupButtonHeld(): boolean {
    return this.held;
  }

  restart(): void {
    System.restart();
  }
}
