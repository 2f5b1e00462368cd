// The firmware's start on Moddable, shared by every platform: the ports on
// Moddable's APIs, with the few parts that differ by platform (flash, the UART
// line format, the setup button, restart) given by the platform's main
// (esp32/main.ts, lin/main.ts), then the gateway.

import { Gateway } from '../../src/app';
import type { FlashPort } from '../../src/ports/flash';
import type { Ports } from '../../src/ports/index';
import type { OtaPort } from '../../src/ports/ota';
import { ModdableAssets } from './assets';
import { ModdableClock } from './clock';
import { device } from './config';
import { moddableCrypto } from './crypto';
import { ModdableHttp } from './http';
import { ModdableKeyValue } from './kv';
import { ModdableMqtt } from './mqtt';
import { ModdableNetwork } from './network';
import { ModdableSerial, type UartLine } from './serial';
import { ModdableSystem } from './system';

export interface Platform {
  flash: FlashPort;
  /** The app slots (esp32/ota.ts; lin/ota.ts stands in for them with files). */
  ota: OtaPort;
  line: UartLine;
  setupButtonHeld: boolean;
  restart: () => void;
}

export function boot(platform: Platform): void {
  const ports: Ports = {
    serial: new ModdableSerial({ optical: device.interfaces.ir, mbus: device.interfaces.mbus }, platform.line),
    flash: platform.flash,
    kv: new ModdableKeyValue(),
    clock: new ModdableClock(),
    crypto: moddableCrypto,
    network: new ModdableNetwork(),
    http: new ModdableHttp({ 80: Number(device.portalPort) }),
    mqtt: new ModdableMqtt(),
    assets: new ModdableAssets(),
    system: new ModdableSystem(platform.setupButtonHeld, platform.restart),
    ota: platform.ota,
    log: (line) => trace(line + '\n'),
  };
  const gateway = new Gateway(ports);
  gateway.logReadings();
  gateway.start();
}
