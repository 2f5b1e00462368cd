// The firmware's entry point on the ESP32: the readings partition, the
// UART line format by the native uart-line module, the BOOT button, esp_restart.

import { boot } from '../boot';
import { device } from '../config';
import { setupButtonHeld } from './button';
import { Esp32Flash } from './flash';
import { Esp32Ota } from './ota';
import { esp32Line } from './line';
import { restart } from './restart';

export default function main(): void {
  boot({ flash: new Esp32Flash(device.readingsPartition), ota: new Esp32Ota(), line: esp32Line, setupButtonHeld: setupButtonHeld(device.setupButton), restart });
}
