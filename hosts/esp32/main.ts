// The firmware's entry point on the ESP32: the ports on Moddable APIs, then
// the gateway.

import { Gateway } from '../../src/app';
import type { Ports } from '../../src/ports/index';
import { Esp32Clock } from './clock';
import { device } from './config';
import { esp32Crypto } from './crypto';
import { Esp32Flash } from './flash';
import { Esp32Http } from './http';
import { Esp32KeyValue } from './kv';
import { Esp32Network } from './network';
import { Esp32Serial } from './serial';
import { Esp32Assets } from './assets';
import { Esp32System } from './system';

export default function main(): void {
  const ports: Ports = {
    serial: new Esp32Serial({ optical: device.interfaces.ir, mbus: device.interfaces.mbus }),
    flash: new Esp32Flash(device.readingsPartition),
    kv: new Esp32KeyValue(),
    clock: new Esp32Clock(),
    crypto: esp32Crypto,
    network: new Esp32Network(),
    http: new Esp32Http(),
    assets: new Esp32Assets(),
    system: new Esp32System(device.setupButton),
    log: (line) => trace(line + '\n'),
  };
  const gateway = new Gateway(ports);
  gateway.logReadings();
  gateway.start();
}
