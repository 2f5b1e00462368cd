// The simulated gateway: what survives a power cut (flash, NVS, the wiring)
// and what does not (RAM, timers, sockets). Each boot builds the ports anew
// and starts the firmware; a power cut, at any instant including the middle
// of a flash write or erase, kills the boot and the device starts again.

import { Gateway, type Build } from '../src/app';
import { RELEASE_KEYS, type ReleaseKey } from '../src/ota/release-keys';
import { SimOta } from '../hosts/sim/ota';
import type { SimOtaFlash, BootedImage } from './world/ota-flash';
import type { Ports } from '../src/ports/index';
import type { FlashPort } from '../src/ports/flash';
import type { KeyValuePort } from '../src/ports/kv';
import { nodeCrypto } from '../hosts/node/crypto';
import { SimClock } from '../hosts/sim/clock';
import { SimSerial } from '../hosts/sim/serial';
import { PowerCut } from '../hosts/sim/power';
import type { FileKeyValue } from '../hosts/sim/kv';
import { SimNetwork } from '../hosts/sim/network';
import { SimHttp, type InProcessServers } from '../hosts/sim/http';
import { SimMqtt } from '../hosts/sim/mqtt';
import type { DiskAssets } from '../hosts/sim/assets';
import { SimSystem } from '../hosts/sim/system';
import type { DeviceStatus, Engine, EngineBoot, Firmware } from '../hosts/sim/engine';
import type { NorFlash } from './world/flash';
import type { NetworkWorld } from './world/network';
import type { SerialLine } from './world/serial-line';
import type { Scheduler } from './world/scheduler';
import { readingJson } from '../src/meter/format';

export type BootCause = 'power-on' | 'power-cut' | 'crash' | 'restart';

/** What is outside the device's RAM: survives a power cut. */
export interface DeviceWorld {
  scheduler: Scheduler;
  flash: NorFlash;
  /** The app slots and otadata (world/ota-flash.ts): which firmware boots. */
  ota: SimOtaFlash;
  /** The release keys the simulated firmware is built with (tests sign with their own); the committed ones when absent. */
  releaseKeys?: readonly ReleaseKey[];
  kv: FileKeyValue;
  lines: SerialLine[];
  network: NetworkWorld;
  servers: InProcessServers;
  /** Device port -> real port (the portal when a person uses it). */
  realPorts: Map<number, number>;
  /** The portal's pages (assets/portal/). */
  assets: DiskAssets;
  /** Whether the setup button is held at power-up. */
  setupButton?: boolean;
  log: (line: string) => void;
}

export interface BootRecord {
  at: number;
  cause: BootCause;
}

/** How long a device stays dark after a power cut. */
const DOWNTIME_MS = 3000;

/** The per-boot side: the ports, and the guard every callback into the firmware goes through. */
export class DeviceBoot implements EngineBoot {
  readonly clock: SimClock;
  readonly serial: SimSerial;
  readonly network: SimNetwork;
  readonly http: SimHttp;
  readonly mqtt: SimMqtt;
  readonly system: SimSystem;
  /** What the bootloader started: the slot and the firmware image it holds. */
  readonly booted: BootedImage;
  readonly ota: SimOta;
  private alive = true;
  private readonly device: SimDevice;
  private readonly world: DeviceWorld;

  constructor(world: DeviceWorld, device: SimDevice, booted: BootedImage) {
    this.world = world;
    this.device = device;
    this.booted = booted;
    const run = <T>(callback: () => T) => this.run(callback);
    this.clock = new SimClock(world.scheduler, run);
    this.serial = new SimSerial(world.lines, run);
    this.network = new SimNetwork(world.network, world.scheduler, run);
    this.http = new SimHttp(world.scheduler, world.servers, world.realPorts, run, () => this.network.isUp, () => this.alive);
    this.mqtt = new SimMqtt(world.scheduler, run, () => this.network.isUp);
    // The firmware asks for a restart from inside one of its callbacks: the boot ends after that callback returns.
    this.system = new SimSystem(() => void world.scheduler.after(0, () => device.restart(this)), world.setupButton ?? false);
    this.ota = new SimOta(world.ota, booted, () => this.system.restart(), (op) => this.guard(op));
  }

  /** The build the booted image stands for: its version, and the release keys the simulated firmware knows. */
  build(): Build {
    return { firmware: this.booted.app.version, releaseKeys: this.world.releaseKeys ?? RELEASE_KEYS };
  }

  track<T>(work: Promise<T>): Promise<T> {
    return this.world.scheduler.track(work);
  }

  get powerFailed(): boolean {
    return this.world.flash.dead;
  }

  /** Runs a callback into the firmware, unless this boot is over; a power cut or a crash ends it. */
  run<T>(callback: () => T): T | undefined {
    if (!this.alive) return undefined;
    try {
      const result = callback();
      if (result instanceof Promise) {
        return result.catch((e: unknown) => this.device.failed(this, e)) as T;
      }
      return result;
    } catch (e) {
      this.device.failed(this, e);
      return undefined;
    }
  }

  get isAlive(): boolean {
    return this.alive;
  }

  end(): void {
    this.alive = false;
    this.clock.cancelAll();
    this.serial.close();
    this.network.shutDown();
    this.http.closeAll();
    this.mqtt.closeAll();
  }

  /** The ports for the firmware on Node. */
  ports(): Ports {
    const world = this.world;
    // A firmware image with a broken meter reader (a test's defect) hears nothing on the line.
    const serial = this.booted.app.defect === 'meter' ? { open: () => undefined, write: () => undefined, close: () => undefined } : this.serial;
    return {
      serial,
      flash: this.flash(world.flash),
      kv: this.kv(world.kv),
      clock: this.clock,
      crypto: nodeCrypto,
      network: this.network,
      http: this.http,
      mqtt: this.mqtt,
      assets: world.assets,
      system: this.system,
      ota: this.ota,
      // A dead boot says nothing more (its last words were cut off with the power).
      log: (line) => {
        if (this.alive) world.log(line);
      },
    };
  }

  /**
   * The flash as this boot sees it. A power cut during a flash operation ends
   * the boot there and then, whatever code path was writing (a timer, an
   * HTTP response): on the device nothing runs after it. A boot that ended
   * never touches the flash again, even after the next boot revived it.
   */
  guard<T>(op: () => T): T {
    if (!this.alive) throw new PowerCut();
    try {
      return op();
    } catch (e) {
      if (e instanceof PowerCut) this.device.failed(this, e);
      throw e;
    }
  }

  /** NVS as this boot sees it: a boot that ended (the power failed under it) changes nothing in it any more. */
  private kv(kv: FileKeyValue): KeyValuePort {
    const alive = () => {
      if (!this.alive) throw new PowerCut();
    };
    return {
      get: (key) => kv.get(key),
      getBytes: (key) => kv.getBytes(key),
      keys: () => kv.keys(),
      set: (key, value) => {
        alive();
        kv.set(key, value);
      },
      delete: (key) => {
        alive();
        kv.delete(key);
      },
    };
  }

  private flash(flash: NorFlash): FlashPort {
    const guard = <T>(op: () => T): T => this.guard(op);
    return {
      size: flash.size,
      sectorSize: flash.sectorSize,
      read: (offset, length) => guard(() => flash.read(offset, length)),
      write: (offset, bytes) => guard(() => flash.write(offset, bytes)),
      erase: (sector) => guard(() => flash.erase(sector)),
    };
  }
}

/** The firmware on Node, in this process. */
export const nodeEngine: Engine = async (boot) => {
  const gateway = new Gateway(boot.ports(), boot.build());
  boot.run(() => gateway.start());
  return {
    status: async () => ({
      line: { ...gateway.reader.stats, rejected: { ...gateway.reader.stats.rejected } },
      silences: gateway.reader.silences.map((s) => ({ ...s })),
      uplink: gateway.uplink ? structuredClone(gateway.uplink.stats) : null,
      mqtt: gateway.mqtt ? { ...gateway.mqtt.stats } : null,
    }),
    uploadNow: async () => void boot.run(() => gateway.uploadNow()),
    kill: async () => undefined,
    onReading: (listener) => gateway.reader.onReading((r) => listener(readingJson(r))),
  };
};

/** The counters of a boot that ended before its status could be read (it died while starting). */
const NO_STATUS: DeviceStatus = {
  line: { bytes: 0, lineErrors: 0, telegrams: 0, readings: 0, rejected: {}, lastByteAt: -1, lastTelegramAt: -1, lastReadingAt: -1, lastError: null, acknowledged: 0 },
  silences: [],
};

export class SimDevice {
  readonly world: DeviceWorld;
  private readonly engine: Engine;
  boot: DeviceBoot | null = null;
  firmware: Firmware | null = null;
  readonly boots: BootRecord[] = [];
  /** Status of ended boots by boot index, for the report (stats restart at every boot). */
  private readonly past: DeviceStatus[] = [];
  /** Ended boots whose counters are still being read. */
  private readonly settling: Promise<void>[] = [];
  crashes: string[] = [];
  /** Computrons of ended boots (XS engine), in all and by kind of event. */
  computrons = 0;
  readonly byEvent: { [kind: string]: { events: number; computrons: number } } = {};
  /** Called after every boot: tests attach listeners here. */
  onBoot: ((firmware: Firmware) => void) | null = null;

  constructor(world: DeviceWorld, engine: Engine) {
    this.world = world;
    this.engine = engine;
  }

  async powerOn(cause: BootCause = 'power-on'): Promise<void> {
    this.world.flash.revive();
    // A cut set for the OTA flash may be due in the bootloader's own otadata write.
    this.world.ota.flash.revive(true);
    let booted: BootedImage;
    try {
      booted = this.world.ota.boot();
    } catch (e) {
      // The power failed again while the bootloader wrote otadata: it starts over when the power is back.
      if (!(e instanceof PowerCut)) throw e;
      this.world.ota.flash.dead = true;
      this.world.scheduler.after(DOWNTIME_MS, () => this.powerOn('power-cut'));
      return;
    }
    const boot = new DeviceBoot(this.world, this, booted);
    this.boot = boot;
    this.boots.push({ at: this.world.scheduler.now, cause });
    const index = this.boots.length - 1;
    const firmware = await this.engine(boot);
    if (!boot.isAlive) {
      // It died while starting: end() has already scheduled the next boot.
      this.settling.push(this.settle(index, firmware));
      return;
    }
    this.firmware = firmware;
    this.onBoot?.(firmware);
  }

  /** The firmware restarts the device (the portal's restart, the end of setup, a factory reset). */
  restart(boot: DeviceBoot): void {
    if (boot !== this.boot || !boot.isAlive) return;
    void this.end('restart');
  }

  /** The power fails now. */
  async powerCut(): Promise<void> {
    await this.end('power-cut');
  }

  /** A firmware callback threw: a power cut if the flash says so, else a crash (the device restarts, as XS aborts). */
  failed(boot: DeviceBoot, e: unknown): void {
    if (boot !== this.boot) return;
    const cause: BootCause = e instanceof PowerCut || this.world.flash.dead ? 'power-cut' : 'crash';
    if (cause === 'crash') {
      const message = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
      this.crashes.push(message);
      this.world.log('firmware crashed: ' + message);
    }
    void this.end(cause);
  }

  /**
   * Ends the boot at this very instant of virtual time: nothing of it runs
   * again and the next boot is due DOWNTIME_MS from now, before anything is
   * awaited (at --speed max, virtual time may run on meanwhile).
   */
  private end(cause: BootCause): Promise<void> {
    const boot = this.boot;
    if (!boot || !boot.isAlive) return Promise.resolve();
    boot.end();
    this.world.flash.dead = true;
    this.world.ota.flash.dead = true;
    const firmware = this.firmware;
    this.firmware = null;
    const index = this.boots.length - 1;
    this.world.scheduler.after(DOWNTIME_MS, () => this.powerOn(cause));
    if (!firmware) return Promise.resolve(); // still starting: powerOn settles it
    const done = this.settle(index, firmware);
    this.settling.push(done);
    return done;
  }

  /** What an ended boot knew is gone with it; the report keeps its counters. */
  private async settle(index: number, firmware: Firmware): Promise<void> {
    this.past[index] = await firmware.status();
    this.account(firmware);
    await firmware.kill();
  }

  private account(firmware: Firmware): void {
    this.computrons += firmware.computrons ?? 0;
    for (const [kind, e] of Object.entries(firmware.byEvent ?? {})) {
      const total = (this.byEvent[kind] ??= { events: 0, computrons: 0 });
      total.events += e.events;
      total.computrons += e.computrons;
    }
  }

  /** Ends the run: the last boot's computrons join the totals. */
  async shutDown(): Promise<void> {
    await Promise.all(this.settling);
    if (this.firmware) this.account(this.firmware);
    await this.firmware?.kill();
    this.firmware = null;
    this.boot?.end();
  }

  /** Counters of every boot so far, in boot order, this one included. */
  async totals(): Promise<DeviceStatus[]> {
    await Promise.all(this.settling);
    const out: DeviceStatus[] = [];
    for (let i = 0; i < this.boots.length; i++) {
      const current = i === this.boots.length - 1 && this.firmware && this.boot?.isAlive;
      out.push(current ? await this.firmware!.status() : (this.past[i] ?? NO_STATUS));
    }
    return out;
  }
}
