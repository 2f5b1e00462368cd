// Network port: Wi-Fi as a station and as the setup access point, the
// captive-portal DNS that answers every name with the portal's address, and
// SNTP.

export interface WifiNetwork {
  ssid: string;
  rssi: number;
  secure: boolean;
}

export type NetworkEvent = 'up' | 'down' | 'client-joined' | 'client-left';

export interface NetworkPort {
  /** Joins a network as a station; events report when it is up (has an address) or down. */
  connect(ssid: string, password: string): void;
  disconnect(): void;
  /** Opens the setup access point (WPA2 when a password is given); its address is returned. */
  startAccessPoint(ssid: string, password: string): string;
  stopAccessPoint(): void;
  /** Answers every DNS query with `address` (captive portal); null stops it. */
  captiveDns(address: string | null): void;
  scan(callback: (networks: WifiNetwork[]) => void): void;
  /** The station's address, or null when not connected. */
  address(): string | null;
  onEvent(callback: (event: NetworkEvent) => void): void;
  /** Asks an SNTP server for the time: ms since the epoch, or an Error. */
  sntp(host: string, callback: (result: number | Error) => void): void;
}
