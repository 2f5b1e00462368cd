// The device configuration from manifest.json's `config` (platforms.esp32 and
// platforms.lin add their own parts; see the README's "Flashing a device" for
// the wiring the esp32 pins describe).

import config from 'mc/config';
import type { UartOptions } from './serial';

export interface DeviceConfig {
  /** How each meter connector's UART opens: port and GPIO pins on the ESP32, a device path on lin. */
  interfaces: { ir: UartOptions; mbus: UartOptions };
  /** GPIO of the button that forces the setup access point when held at boot (ESP32). */
  setupButton: number;
  /** Data partition of the reading log (ESP32). */
  readingsPartition: string;
  /** The file that stands in for that partition on lin, and its size. */
  readingsFile: string;
  readingsSize: number;
  /**
   * The port the portal listens on: 80 on the device; on lin 8080 unless the
   * build says otherwise (`mcconfig ... portalPort=N`, a string then).
   */
  portalPort: number | string;
}

export const device = config as unknown as DeviceConfig;
