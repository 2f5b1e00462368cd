// Network port on Moddable: WiFi (station and soft access point
// together), the DNS server module for the captive portal, and SNTP.

import WiFi from 'wifi';
import Net from 'net';
import DNSServer from 'dns/server';
import SNTP from 'sntp';
import type { NetworkEvent, NetworkPort, WifiNetwork } from '../../src/ports/network';

/** The ESP32 soft AP's address (ESP-IDF's default DHCP server network). */
const AP_ADDRESS = '192.168.4.1';

export class ModdableNetwork implements NetworkPort {
  private monitor: WiFi | null = null;
  private dns: DNSServer | null = null;
  private accessPoint = false;
  private up = false;
  private readonly listeners: ((event: NetworkEvent) => void)[] = [];

  private emit(event: NetworkEvent): void {
    for (const l of this.listeners) l(event);
  }

  connect(ssid: string, password: string): void {
    this.monitor?.close();
    // Keep the access point while a station connection comes up (the portal stays reachable).
    WiFi.mode = (this.accessPoint ? WiFi.Mode.station | WiFi.Mode.accessPoint : WiFi.Mode.station) as 1;
    this.monitor = new WiFi({ ssid, password }, (message) => {
      if (message === WiFi.gotIP) {
        this.up = true;
        this.emit('up');
      } else if ((message === WiFi.disconnected || message === WiFi.lostIP) && this.up) {
        this.up = false;
        this.emit('down');
      } else if (message === WiFi.station_connected) this.emit('client-joined');
      else if (message === WiFi.station_disconnected) this.emit('client-left');
    });
  }

  disconnect(): void {
    this.monitor?.close();
    this.monitor = null;
    WiFi.disconnect();
    if (this.up) {
      this.up = false;
      this.emit('down');
    }
  }

  startAccessPoint(ssid: string, password: string): string {
    WiFi.accessPoint({ ssid, password, channel: 1, max: 4, station: this.monitor !== null } as Parameters<typeof WiFi.accessPoint>[0]);
    this.accessPoint = true;
    return AP_ADDRESS;
  }

  stopAccessPoint(): void {
    this.captiveDns(null);
    this.accessPoint = false;
    WiFi.mode = (this.monitor ? WiFi.Mode.station : WiFi.Mode.none) as 1;
  }

  captiveDns(address: string | null): void {
    this.dns?.close();
    this.dns = address === null ? null : new DNSServer((message) => (message === 1 ? address : ''));
  }

  scan(callback: (networks: WifiNetwork[]) => void): void {
    const found: WifiNetwork[] = [];
    WiFi.scan({}, (item) => {
      if (item) found.push({ ssid: item.ssid, rssi: item.rssi, secure: item.authentication !== 'none' });
      else callback(found);
    });
  }

  address(): string | null {
    return this.up ? Net.get('IP') ?? null : null;
  }

  onEvent(callback: (event: NetworkEvent) => void): void {
    this.listeners.push(callback);
  }

  sntp(host: string, callback: (result: number | Error) => void): void {
    new SNTP({ host }, (message, value) => {
      if (message === SNTP.time && value !== undefined) callback(value * 1000);
      else if (message === SNTP.error) callback(new Error(`SNTP ${host}: no answer`));
    });
  }
}
