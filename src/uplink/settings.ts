// The uplink's settings: where and when the device delivers, and the
// credentials it delivers with (kept apart, as secrets). The device's settings
// (config/settings.ts), the enrolment and the uplink itself all take them from
// here, so that none of those imports another for them.

export interface UplinkSettings {
  /** The backend, "https://host:port"; empty: no uplink. */
  url: string;
  deviceId: string;
  auth: 'certificate' | 'token';
  /** Local times "HH:MM" of the daily delivery window. */
  window: { from: string; to: string };
  /** Seconds between live pushes (TAF 14 values) while the meter's Live view is open; 0: no live channel. */
  live: number;
}

export interface UplinkSecrets {
  /** The CA the backend's certificate must chain to (DER). */
  ca: Uint8Array | null;
  certificate: Uint8Array | null;
  key: Uint8Array | null;
  token: string | null;
}

export const DEFAULT_WINDOW = { from: '00:30', to: '04:00' };
/** Live pushes every 10 s while somebody watches (a TLS handshake each: the ESP32 manages one in about a second). */
export const DEFAULT_LIVE_PUSH = 10;

/** "HH:MM" as minutes after midnight, or null. */
export function minutesOf(text: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}
