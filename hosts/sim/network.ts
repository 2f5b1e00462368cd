// The network on the desktop: the device's Wi-Fi station, setup access
// point and SNTP client, onto the simulated world's network
// (simulator/world/network.ts: which networks there are, when the house's is
// down, what the SNTP server answers). This side only adapts it to
// src/ports/network.ts, on virtual time.

import type { VirtualTime } from './virtual-time';
import type { NetworkEvent, NetworkPort, WifiNetwork } from '../../src/ports/network';

const JOIN_MS = 2000;
const SNTP_MS = 40;

/** What is outside the device, as its network port sees it. */
export interface NetworkConditions {
  readonly networks: readonly WifiNetwork[];
  /** Whether joining `ssid` with `password` succeeds. */
  admits(ssid: string, password: string): boolean;
  /** The end of the outage covering `t`, or null when the network works at t. */
  outageUntil(t: number): number | null;
  /** Outages that start after `t`. */
  outagesAfter(t: number): { from: number; to: number }[];
  /** What the SNTP server says the time is at `t`. */
  sntpTime(t: number): number;
}

export class SimNetwork implements NetworkPort {
  private readonly world: NetworkConditions;
  private readonly scheduler: VirtualTime;
  private readonly listeners: ((event: NetworkEvent) => void)[] = [];
  private joined: string | null = null;
  private up = false;
  private generation = 0;
  private readonly run: (callback: () => void) => void | Promise<void>;
  dns: string | null = null;
  accessPoint: { ssid: string; password: string } | null = null;

  constructor(world: NetworkConditions, scheduler: VirtualTime, run: (callback: () => void) => void | Promise<void> = (c) => c()) {
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
    this.joined = this.world.admits(ssid, password) ? ssid : null;
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
