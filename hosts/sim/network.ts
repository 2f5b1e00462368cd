// The network on the desktop: a simulated Wi-Fi the device can join (down
// during outage faults), the setup access point, and an SNTP server that
// tells the true (virtual) time.

import type { Scheduler } from '../../simulator/world/scheduler';
import type { NetworkEvent, NetworkPort, WifiNetwork } from '../../src/ports/network';

export const SIM_WIFI = { ssid: 'Home', password: 'correct horse battery' };
const JOIN_MS = 2000;
const SNTP_MS = 40;

/** What is outside the device: whether the house's Wi-Fi and uplink work right now. */
export class NetworkWorld {
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

export class SimNetwork implements NetworkPort {
  private readonly world: NetworkWorld;
  private readonly scheduler: Scheduler;
  private readonly listeners: ((event: NetworkEvent) => void)[] = [];
  private joined: string | null = null;
  private up = false;
  private generation = 0;
  private readonly run: (callback: () => void) => void | Promise<void>;
  dns: string | null = null;
  accessPoint: { ssid: string; password: string } | null = null;

  constructor(world: NetworkWorld, scheduler: Scheduler, run: (callback: () => void) => void | Promise<void> = (c) => c()) {
    this.world = world;
    this.scheduler = scheduler;
    this.run = run;
  }

  private emit(event: NetworkEvent): void | Promise<void> {
    return this.run(() => {
      for (const l of this.listeners) l(event);
    });
  }

  connect(ssid: string, password: string): void {
    const generation = ++this.generation;
    this.joined = ssid === SIM_WIFI.ssid && password === SIM_WIFI.password ? ssid : null;
    if (this.up) {
      this.up = false;
      this.emit('down');
    }
    if (!this.joined) return; // wrong network or password: it never comes up
    const bringUp = (): void | Promise<void> => {
      if (generation !== this.generation) return;
      const until = this.world.outageUntil(this.scheduler.now);
      if (until !== null) {
        this.scheduler.at(until, bringUp);
        return;
      }
      this.up = true;
      // Schedule the next outage's drop.
      const next = this.world.outagesAfter(this.scheduler.now)[0];
      if (next) {
        this.scheduler.at(next.from, () => {
          if (generation !== this.generation || !this.up) return;
          this.up = false;
          this.scheduler.at(next.to, bringUp);
          return this.emit('down');
        });
      }
      return this.emit('up');
    };
    this.scheduler.after(JOIN_MS, bringUp);
  }

  disconnect(): void {
    this.generation++;
    this.joined = null;
    if (this.up) {
      this.up = false;
      this.emit('down');
    }
  }

  startAccessPoint(ssid: string, password: string): string {
    this.accessPoint = { ssid, password };
    return '192.168.4.1';
  }

  stopAccessPoint(): void {
    this.accessPoint = null;
    this.dns = null;
  }

  captiveDns(address: string | null): void {
    this.dns = address;
  }

  scan(callback: (networks: WifiNetwork[]) => void): void {
    this.scheduler.after(2000, () => this.run(() => callback(this.world.networks.slice())));
  }

  address(): string | null {
    return this.up ? '192.168.1.57' : null;
  }

  onEvent(callback: (event: NetworkEvent) => void): void {
    this.listeners.push(callback);
  }

  sntp(host: string, callback: (result: number | Error) => void): void {
    this.scheduler.after(SNTP_MS, () =>
      // A server's timestamp is taken half way through the exchange.
      this.run(() => callback(this.up ? this.world.sntpTime(this.scheduler.now - SNTP_MS / 2) : new Error(`SNTP ${host}: network down`))),
    );
  }

  /** The device lost power. */
  shutDown(): void {
    this.generation++;
    this.listeners.length = 0;
    this.up = false;
  }

  get isUp(): boolean {
    return this.up;
  }
}
