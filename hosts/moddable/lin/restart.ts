// Stands in for the ESP32's restart (esp32/restart.ts) on lin, where Moddable's
// System has no restart: the native lin-restart module replaces the mcsim
// process with a fresh one of the same command line, so the app boots again
// with its files ("flash" and preferences) as they are.

import linRestart from 'lin-restart';

export function restart(): void {
  linRestart();
}
