// The network in the simulated world: the house's Wi-Fi (down during outage
// faults), the networks around it, and an SNTP server that tells the true
// (virtual) time, or a skewed one. hosts/sim/network.ts is the device's port
// onto it.

import type { Scheduler } from './scheduler';
import type { WifiNetwork } from '../../src/ports/network';
import type { NetworkConditions } from '../../hosts/sim/network';

/** The house's Wi-Fi, as its owner types it into the portal. */
export const SIM_WIFI = { ssid: 'Home', password: 'correct horse battery' };

/** What is outside the device: whether the house's Wi-Fi and uplink work right now. */
export class NetworkWorld implements NetworkConditions {
  private readonly scheduler: Scheduler;
  private outages: { from: number; to: number }[] = [];
  private skews: { by: number; from: number; to: number }[] = [];
  readonly networks: WifiNetwork[] = [
    { ssid: SIM_WIFI.ssid, rssi: -58, secure: true },
    { ssid: 'Neighbour', rssi: -81, secure: true },
    { ssid: 'Cafe Guest', rssi: -87, secure: false },
  ];

  constructor(scheduler: Scheduler) {
    this.scheduler = scheduler;
  }

  /** Whether a device joining `ssid` with `password` gets in: the house's Wi-Fi only. */
  admits(ssid: string, password: string): boolean {
    return ssid === SIM_WIFI.ssid && password === SIM_WIFI.password;
  }

  addOutage(from: number, to: number): void {
    this.outages.push({ from, to });
  }

  /** The SNTP server's answers are `by` ms off from `from` to `to`. */
  addSntpSkew(by: number, from: number, to: number): void {
    this.skews.push({ by, from, to });
  }

  /** What the SNTP server says the time is at `t`. */
  sntpTime(t: number): number {
    for (const s of this.skews) if (t >= s.from && t < s.to) return t + s.by;
    return t;
  }

  /** The end of the outage covering `t`, or null when the network works at t. */
  outageUntil(t: number): number | null {
    for (const o of this.outages) if (t >= o.from && t < o.to) return o.to;
    return null;
  }

  get now(): number {
    return this.scheduler.now;
  }

  /** Outages that start after `t`. */
  outagesAfter(t: number): { from: number; to: number }[] {
    return this.outages.filter((o) => o.from > t);
  }
}
