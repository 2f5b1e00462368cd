// The device's settings: what the user chose in the portal, kept in the
// key-value store, with defaults for everything. Secrets (meter keys, the
// Wi-Fi password) are kept under their own keys and are not part of the
// settings object, so nothing that shows or sends settings can leak them.

import type { KeyValuePort } from '../ports/kv';
import { DEFAULT_ZONE, isKnownZone } from '../time/zone';
import { PROTOCOL_DEFAULTS, type MeterSettings } from '../meter/settings';
import { validTaf, type TafSettings } from '../taf/settings';
import { DEFAULT_LIVE_PUSH, DEFAULT_WINDOW, minutesOf, type UplinkSettings } from '../uplink/settings';
import { jsonText } from '../codec/json';

export interface Settings {
  meter: MeterSettings;
  /** Zone of the daily reading and of meter clocks in local time. */
  zone: string;
  /** The home network the gateway joins (its password is kept apart, as a secret). */
  wifi: { ssid: string };
  /** The SNTP server. */
  sntp: string;
  /** TAF 7 period and tolerance, TAF 14 interval. */
  taf: TafSettings;
  /** Where readings are delivered (its credentials are kept apart, as secrets); url '' when nowhere. */
  uplink: UplinkSettings;
}

const DEFAULT_SNTP = 'pool.ntp.org';

export const DEFAULT_SETTINGS: Settings = {
  meter: PROTOCOL_DEFAULTS.sml,
  zone: DEFAULT_ZONE,
  wifi: { ssid: '' },
  sntp: DEFAULT_SNTP,
  taf: validTaf(undefined),
  uplink: { url: '', deviceId: '', auth: 'certificate', window: DEFAULT_WINDOW, live: DEFAULT_LIVE_PUSH },
};

/** Seconds between live pushes: 0 (off) or 1..3600; null when `v` is none of them. */
export function validLivePush(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 3600 ? v : null;
}

function validUplink(u: Partial<UplinkSettings> | undefined): UplinkSettings {
  const d = DEFAULT_SETTINGS.uplink;
  if (!u || typeof u !== 'object') return d;
  const window =
    u.window && typeof u.window === 'object' && minutesOf(String(u.window.from)) !== null && minutesOf(String(u.window.to)) !== null ? { from: String(u.window.from), to: String(u.window.to) } : d.window;
  return {
    url: typeof u.url === 'string' && /^https?:\/\/\S+$/.test(u.url) ? u.url : '',
    deviceId: typeof u.deviceId === 'string' ? u.deviceId : '',
    auth: u.auth === 'token' ? 'token' : 'certificate',
    window,
    live: validLivePush(u.live) ?? d.live,
  };
}

const SETTINGS_KEY = 'settings';
export const METER_KEY = 'meterKey';
export const AUTH_KEY = 'meterAuthKey';
export const WIFI_PASSWORD_KEY = 'wifiPassword';

/** Reads the settings; anything missing or malformed takes its default. */
export function loadSettings(kv: KeyValuePort): Settings {
  const text = kv.get(SETTINGS_KEY);
  if (!text) return DEFAULT_SETTINGS;
  let stored: Partial<Settings>;
  try {
    stored = JSON.parse(text) as Partial<Settings>;
  } catch {
    return DEFAULT_SETTINGS;
  }
  const protocol = stored.meter?.protocol && PROTOCOL_DEFAULTS[stored.meter.protocol] ? stored.meter.protocol : DEFAULT_SETTINGS.meter.protocol;
  const meter = { ...PROTOCOL_DEFAULTS[protocol], ...stored.meter, protocol };
  return {
    meter,
    zone: stored.zone && isKnownZone(stored.zone) ? stored.zone : DEFAULT_ZONE,
    wifi: { ssid: typeof stored.wifi?.ssid === 'string' ? stored.wifi.ssid : '' },
    sntp: typeof stored.sntp === 'string' && stored.sntp ? stored.sntp : DEFAULT_SNTP,
    taf: validTaf(stored.taf),
    uplink: validUplink(stored.uplink),
  };
}

export function saveSettings(kv: KeyValuePort, settings: Settings): void {
  kv.set(SETTINGS_KEY, jsonText(settings));
}

/** Whether settings have been stored (a device fresh out of the box has none: loadSettings gives the defaults). */
export function settingsStored(kv: KeyValuePort): boolean {
  return !!kv.get(SETTINGS_KEY);
}

export interface MeterKeys {
  key: Uint8Array | null;
  authKey: Uint8Array | null;
}

export function loadKeys(kv: KeyValuePort): MeterKeys {
  return { key: kv.getBytes(METER_KEY) ?? null, authKey: kv.getBytes(AUTH_KEY) ?? null };
}

/** Stores the meter's keys: a key given replaces the stored one, null removes it, one left out stays as it is. */
export function saveKeys(kv: KeyValuePort, keys: Partial<MeterKeys>): void {
  if (keys.key) kv.set(METER_KEY, keys.key);
  else if (keys.key === null) kv.delete(METER_KEY);
  if (keys.authKey) kv.set(AUTH_KEY, keys.authKey);
  else if (keys.authKey === null) kv.delete(AUTH_KEY);
}

/** The home network's password, or null when none is set. */
export function loadWifiPassword(kv: KeyValuePort): string | null {
  return kv.get(WIFI_PASSWORD_KEY) ?? null;
}

/** Stores the home network's password; null removes it (an open network, or another one). */
export function saveWifiPassword(kv: KeyValuePort, password: string | null): void {
  if (password === null) kv.delete(WIFI_PASSWORD_KEY);
  else kv.set(WIFI_PASSWORD_KEY, password);
}
