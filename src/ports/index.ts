// The ports a host gives the firmware: everything outside the firmware's own
// code goes through these.

import type { AssetsPort } from './assets';
import type { ClockPort } from './clock';
import type { CryptoPort } from './crypto';
import type { FlashPort } from './flash';
import type { HttpPort } from './http';
import type { KeyValuePort } from './kv';
import type { MqttPort } from './mqtt';
import type { NetworkPort } from './network';
import type { OtaPort } from './ota';
import type { SerialPort } from './serial';
import type { SystemPort } from './system';

export interface Ports {
  serial: SerialPort;
  flash: FlashPort;
  kv: KeyValuePort;
  clock: ClockPort;
  crypto: CryptoPort;
  network: NetworkPort;
  http: HttpPort;
  /** One connection to an MQTT broker (the publisher's). */
  mqtt: MqttPort;
  /** The portal's pages. */
  assets: AssetsPort;
  system: SystemPort;
  /** The app slots: firmware updates and their rollback. */
  ota: OtaPort;
  /** Writes a line to the host's console (the serial monitor on the device). */
  log(line: string): void;
}
