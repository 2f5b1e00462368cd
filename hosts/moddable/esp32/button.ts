// The setup button on the ESP32: the DevKit's BOOT button (GPIO 0, low while
// held), read once at boot through ECMA-419 embedded:io/digital.

import Digital from 'embedded:io/digital';

export function setupButtonHeld(pin: number): boolean {
  try {
    const button = new Digital({ pin, mode: Digital.InputPullUp });
    const held = button.read() === 0;
    button.close();
    return held;
  } catch {
    return false; // a board without the button: never held
  }
}
