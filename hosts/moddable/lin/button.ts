// Stands in for the ESP32's setup button (esp32/button.ts) on lin, which has
// no GPIO: the button counts as held at boot when a file named `setup-button`
// is in the folder mcsim runs in (`touch setup-button`, then start it), so the
// forced access point can be tried without a board.

import { File } from 'file';

export function setupButtonHeld(): boolean {
  return File.exists('setup-button');
}
