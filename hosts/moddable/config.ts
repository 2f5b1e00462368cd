// The device configuration from manifest.json's `config` (see the README's
// "Flashing a device" for the wiring these pins describe).

import config from 'mc/config';
import type { UartPins } from './serial';

export interface DeviceConfig {
  /** The setup access point. */
  ap: { ssid: string; password: string; address: string };
  /** UART port and ESP32 GPIO pins of each meter connector. */
  interfaces: { ir: UartPins; mbus: UartPins };
  /** GPIO of the button that forces the setup access point when held at boot. */
  setupButton: number;
  /** Data partition of the reading log. */
  readingsPartition: string;
  sntp: string[];
  firmware: string;
}

export const device = config as unknown as DeviceConfig;
