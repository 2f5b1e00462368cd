// What runs the firmware for one boot of a simulated device: in this process
// (simulator/device.ts's nodeEngine) or inside XS (xs-engine.ts). Declared
// here, beside the XS engine, as what an engine needs of a boot; the
// simulator's device implements it and picks the engine, so that hosts/sim
// depends on no part of the simulator.

import type { Build } from '../../src/app';
import type { Ports } from '../../src/ports/index';
import type { LineStats, Silence } from '../../src/meter/reader';
import type { UplinkStats } from '../../src/uplink/uplink';
import type { MqttStats } from '../../src/mqtt/publisher';

/** A running firmware, whichever engine runs it. */
export interface Firmware {
  status(): Promise<DeviceStatus>;
  /** Every reading, as `smgw decode` prints it (the same bytes from either engine). */
  onReading(listener: (json: string) => void): void;
  /** The portal's "upload now". */
  uploadNow(): Promise<void>;
  /** The boot is over (power cut or crash): no callback of it may run again. */
  kill(): Promise<void>;
  /** XS computrons spent by this boot, when the engine counts them, by kind of event. */
  computrons?: number;
  byEvent?: { [kind: string]: { events: number; computrons: number } };
}

export interface DeviceStatus {
  line: LineStats;
  silences: Silence[];
  /** The uplink's counters, when the device is enrolled. */
  uplink?: UplinkStats | null;
  /** The MQTT publisher's counters, when MQTT is set up. */
  mqtt?: MqttStats | null;
}

/** One boot of the device, as an engine sees it. */
export interface EngineBoot {
  /** The ports for the firmware. */
  ports(): Ports;
  /** The build the booted image stands for. */
  build(): Build;
  /** Runs a callback into the firmware, unless this boot is over; a power cut or a crash ends it. */
  run<T>(callback: () => T): T | undefined;
  /** Asynchronous work outside virtual time, which virtual time waits for at --speed max. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Whether the device's power has failed (its flash says so). */
  readonly powerFailed: boolean;
}

export type Engine = (boot: EngineBoot) => Promise<Firmware>;
