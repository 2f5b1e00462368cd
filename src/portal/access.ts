// When the setup access point is open. It opens on first boot (not set up),
// when no home network is configured, when the setup button is held at
// power-up, and when the configured network has not come up 30 s after boot
// (no working station configuration). Once the device is set up and the
// station is up, the access point closes: the portal stays reachable on the
// station's address. The captive DNS answers every name while it is open.

import type { Ports } from '../ports/index';
import type { Timer } from '../ports/clock';

export const AP_SSID = 'SMGW.Lite';
export const AP_ADDRESS = '192.168.4.1';
/** How long a configured station has to come up before the access point opens as a fallback. */
const STATION_GRACE_MS = 30000;

export type ApReason = 'not set up' | 'no Wi-Fi configured' | 'setup button held' | 'Wi-Fi did not come up';

export class AccessPoint {
  /** Why it is open, or null when closed. */
  reason: ApReason | null = null;
  address: string | null = null;
  private readonly ports: Ports;
  private timer: Timer | null = null;

  constructor(ports: Ports) {
    this.ports = ports;
  }

  /** `password`: the setup password before setup, the owner's access point password after. */
  start(configured: boolean, ssid: string, password: string, say: (line: string) => void): void {
    const { network, clock, system } = this.ports;
    const open = (reason: ApReason) => {
      if (this.reason) return;
      this.reason = reason;
      this.address = network.startAccessPoint(AP_SSID, password);
      network.captiveDns(this.address);
      say(`portal: access point ${AP_SSID} open at ${this.address} (${reason})`);
    };
    if (!configured) open('not set up');
    else if (!ssid) open('no Wi-Fi configured');
    else if (system.setupButtonHeld()) open('setup button held');
    network.onEvent((event) => {
      if (event === 'up' && configured && this.reason && this.reason !== 'setup button held') this.close(say);
    });
    if (ssid) {
      this.timer = clock.after(STATION_GRACE_MS, () => {
        this.timer = null;
        if (network.address() === null) open('Wi-Fi did not come up');
      });
    }
  }

  close(say: (line: string) => void): void {
    if (!this.reason) return;
    this.ports.network.stopAccessPoint();
    this.reason = null;
    this.address = null;
    say('portal: access point closed, the portal is reachable on the home network');
  }

  stop(): void {
    if (this.timer) this.ports.clock.cancel(this.timer);
    this.timer = null;
  }
}
