// The setup wizard's steps as changes to the stored configuration. Each step
// checks its input and says what is wrong in words; secrets go to their own
// key-value entries and are only ever reported as "set" or "not set".

import { AUTH_KEY, METER_KEY, WIFI_PASSWORD_KEY, saveKeys, saveSettings, saveWifiPassword, validLivePush, type Settings } from '../config/settings';
import { PROTOCOL_DEFAULTS, type MeterSettings } from '../meter/settings';
import type { KeyValuePort } from '../ports/kv';
import type { Protocol } from '../meter/reading';
import { fromHex } from '../codec/bytes';
import { isKnownZone } from '../time/zone';
import { validTaf } from '../taf/settings';
import { applyBundle, BundleError, UPLINK_CA, UPLINK_CERT, UPLINK_KEY, UPLINK_TOKEN } from '../uplink/enrolment';
import { HttpError, stringField } from './http';
import { HASH_KEY } from './auth';
import { jsonText } from '../codec/json';
import { DEFAULT_MQTT, MQTT_CA_KEY, MQTT_CERT_KEY, MQTT_CLIENT_KEY, MQTT_KEY, MQTT_PASSWORD_KEY, TOPIC_LEVEL, loadMqtt, saveMqtt } from '../mqtt/settings';
import { fromBase64 } from '../codec/base64';


const PORTAL_KEY = 'portal';
export const AP_PASSWORD_KEY = 'apPassword';

type Body = { [key: string]: unknown };

export function setupDone(kv: KeyValuePort): boolean {
  const text = kv.get(PORTAL_KEY);
  if (!text) return false;
  try {
    return (JSON.parse(text) as { setup?: unknown }).setup === true;
  } catch {
    return false;
  }
}

export function markSetupDone(kv: KeyValuePort): void {
  kv.set(PORTAL_KEY, jsonText({ setup: true }));
}

export function setWifi(kv: KeyValuePort, settings: Settings, body: Body): Settings {
  const ssid = stringField(body, 'ssid', 32);
  const password = stringField(body, 'password', 63, false);
  if (password && password.length < 8) throw new HttpError(400, 'a WPA2 password has at least 8 characters');
  // An empty password keeps the stored one when the network stays the same (the page never sees it).
  if (password) saveWifiPassword(kv, password);
  else if (ssid !== settings.wifi.ssid || body.open === true) saveWifiPassword(kv, null);
  return save(kv, { ...settings, wifi: { ssid } });
}

export function setAccessPointPassword(kv: KeyValuePort, password: string): void {
  if (password.length < 8 || password.length > 63) throw new HttpError(400, 'the access point password needs 8 to 63 characters (WPA2)');
  kv.set(AP_PASSWORD_KEY, password);
}

const PROTOCOLS: Protocol[] = ['sml', 'd0', 'dsmr', 'dlms'];
const BAUDS = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];

export function parseMeter(body: Body): MeterSettings {
  const protocol = body.protocol as Protocol;
  if (PROTOCOLS.indexOf(protocol) < 0) throw new HttpError(400, 'protocol must be one of sml, d0, dsmr, dlms');
  const d = PROTOCOL_DEFAULTS[protocol];
  const connector = body.connector === undefined ? d.connector : body.connector;
  if (connector !== 'optical' && connector !== 'mbus') throw new HttpError(400, 'connector must be optical or mbus');
  const l = (body.line ?? {}) as Body;
  const baud = l.baud === undefined ? d.line.baud : Number(l.baud);
  if (BAUDS.indexOf(baud) < 0) throw new HttpError(400, `baud must be one of ${BAUDS.join(', ')}`);
  const dataBits = l.dataBits === undefined ? d.line.dataBits : Number(l.dataBits);
  if (dataBits !== 7 && dataBits !== 8) throw new HttpError(400, 'data bits must be 7 or 8');
  const parity = l.parity === undefined ? d.line.parity : l.parity;
  if (parity !== 'none' && parity !== 'even' && parity !== 'odd') throw new HttpError(400, 'parity must be none, even or odd');
  const stopBits = l.stopBits === undefined ? d.line.stopBits : Number(l.stopBits);
  if (stopBits !== 1 && stopBits !== 2) throw new HttpError(400, 'stop bits must be 1 or 2');
  const inverted = l.inverted === undefined ? d.line.inverted : l.inverted === true;
  const transport = body.transport === undefined ? 'auto' : body.transport;
  if (transport !== 'auto' && transport !== 'mbus' && transport !== 'hdlc' && transport !== 'apdu') throw new HttpError(400, 'transport must be auto, mbus, hdlc or apdu');
  return { protocol, connector, line: { baud, dataBits, parity, stopBits, inverted }, transport };
}

export function setMeter(kv: KeyValuePort, settings: Settings, body: Body): Settings {
  return save(kv, { ...settings, meter: parseMeter(body) });
}

function aesKey(body: Body, name: string): Uint8Array | null {
  const text = stringField(body, name, 64, false).replace(/[\s:]/g, '');
  if (!text) return null;
  const key = fromHex(text);
  if (!key || key.length !== 16) throw new HttpError(400, `${name === 'key' ? 'the decryption key' : 'the authentication key'} must be 32 hex digits (16 bytes)`);
  return key;
}

/** Write-only: a key given replaces the stored one, `clear` removes it, nothing else changes. */
export function setKeys(kv: KeyValuePort, body: Body): void {
  const key = aesKey(body, 'key');
  const authKey = aesKey(body, 'authKey');
  saveKeys(kv, { key: key ?? (body.clearKey === true ? null : undefined), authKey: authKey ?? (body.clearAuthKey === true ? null : undefined) });
  key?.fill(0);
  authKey?.fill(0);
}

export function setBackend(kv: KeyValuePort, settings: Settings, body: Body): Settings {
  if (body.remove === true) {
    for (const k of [UPLINK_CA, UPLINK_CERT, UPLINK_KEY, UPLINK_TOKEN]) kv.delete(k);
    return save(kv, { ...settings, uplink: { ...settings.uplink, url: '', deviceId: '' } });
  }
  let live = settings.uplink.live;
  if (body.live !== undefined) {
    const v = validLivePush(body.live);
    if (v === null) throw new HttpError(400, 'live values to the backend: every 1 to 3600 seconds, or 0 for never');
    live = v;
  }
  // Only the live interval: the enrolment stays.
  if (body.live !== undefined && (body.bundle === undefined || body.bundle === '')) return save(kv, { ...settings, uplink: { ...settings.uplink, live } });
  const bundle = stringField(body, 'bundle', 7 * 1024);
  try {
    return save(kv, { ...settings, uplink: applyBundle(kv, bundle, { window: settings.uplink.window, live }) });
  } catch (e) {
    if (e instanceof BundleError) throw new HttpError(400, e.message);
    throw e;
  }
}

export function setTaf(kv: KeyValuePort, settings: Settings, body: Body): Settings {
  const period = Number(body.period ?? settings.taf.period);
  const live = Number(body.live ?? settings.taf.live);
  const tolerance = Number(body.tolerance ?? Math.min(settings.taf.tolerance, period * 30));
  const taf = validTaf({ period, live, tolerance });
  if (taf.period !== period) throw new HttpError(400, 'the TAF 7 period must divide the hour: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60 minutes');
  if (taf.live !== live) throw new HttpError(400, 'the TAF 14 interval must be 1 to 60 seconds');
  if (taf.tolerance !== tolerance) throw new HttpError(400, 'the tolerance must be 1 s up to half the period');
  const zone = body.zone === undefined ? settings.zone : String(body.zone);
  if (!isKnownZone(zone)) throw new HttpError(400, `unknown time zone ${zone}`);
  // The time server: a network that blocks public NTP has its router or its own.
  const sntp = body.sntp === undefined ? settings.sntp : String(body.sntp).trim();
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(sntp)) throw new HttpError(400, 'the time server must be a host name or an IPv4 address');
  return save(kv, { ...settings, taf, zone, sntp });
}

/** A certificate or key as the portal takes it: PEM text or base64 of the DER; null when the field is empty. */
function derField(body: Body, name: string, what: string): Uint8Array | null {
  const text = stringField(body, name, 8 * 1024, false).trim();
  if (!text) return null;
  const pem = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END [A-Z ]+-----/.exec(text);
  const der = fromBase64(pem ? pem[1] : text);
  if (!der || der.length < 100 || der[0] !== 0x30) throw new HttpError(400, `${what} must be PEM or base64 DER`);
  return der;
}

/** Stores the broker settings, its password and, for a broker other than the backend's, its CA and the client's certificate and key. */
export function setMqtt(kv: KeyValuePort, body: Body): void {
  if (body.enabled === false) {
    for (const k of [MQTT_KEY, MQTT_PASSWORD_KEY, MQTT_CA_KEY, MQTT_CERT_KEY, MQTT_CLIENT_KEY]) kv.delete(k);
    return;
  }
  const host = stringField(body, 'host', 253);
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host)) throw new HttpError(400, 'the MQTT broker must be a host name or an IPv4 address');
  const flag = (name: string, d: boolean) => (body[name] === undefined ? d : body[name] === true || body[name] === 'on' || body[name] === 'true');
  const tls = flag('tls', Number(body.port) === 8883);
  const port = body.port === undefined || body.port === '' ? (tls ? 8883 : 1883) : Number(body.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HttpError(400, 'the MQTT port must be 1 to 65535');
  const user = stringField(body, 'user', 64, false);
  const topic = stringField(body, 'topic', 64, false) || DEFAULT_MQTT.topic;
  if (!TOPIC_LEVEL.test(topic)) throw new HttpError(400, 'the topic is one level: letters, digits and - _ . only');
  const clientId = stringField(body, 'clientId', 128, false);
  if (clientId && !/^[\x21-\x7e]+$/.test(clientId)) throw new HttpError(400, 'the client id has no spaces and only ASCII');
  const password = stringField(body, 'password', 64, false);
  const ca = derField(body, 'ca', "the broker's CA certificate");
  const certificate = derField(body, 'certificate', 'the client certificate');
  const key = derField(body, 'key', 'the client key');
  if ((certificate === null) !== (key === null)) throw new HttpError(400, 'a client certificate needs its key, and a key its certificate');
  if (certificate && !ca && !kv.getBytes(MQTT_CA_KEY)) throw new HttpError(400, "a client certificate of its own needs the broker's CA too");
  saveMqtt(kv, {
    host, port, user, topic, clientId, tls,
    omdp: flag('omdp', DEFAULT_MQTT.omdp),
    live: flag('live', DEFAULT_MQTT.live),
    homeAssistant: flag('homeAssistant', DEFAULT_MQTT.homeAssistant),
    discoveryPrefix: DEFAULT_MQTT.discoveryPrefix,
  });
  if (password) kv.set(MQTT_PASSWORD_KEY, password);
  if (ca) kv.set(MQTT_CA_KEY, ca);
  if (certificate && key) {
    kv.set(MQTT_CERT_KEY, certificate);
    kv.set(MQTT_CLIENT_KEY, key);
  }
  if (body.clearCredentials === true) for (const k of [MQTT_CA_KEY, MQTT_CERT_KEY, MQTT_CLIENT_KEY]) kv.delete(k);
}

/** Which secrets are set: all the page ever learns of them. */
export function secretsSet(kv: KeyValuePort): { [name: string]: boolean } {
  const has = (k: string) => kv.get(k) != null || kv.getBytes(k) != null;
  return {
    adminPassword: has(HASH_KEY),
    accessPointPassword: has(AP_PASSWORD_KEY),
    wifiPassword: has(WIFI_PASSWORD_KEY),
    meterKey: has(METER_KEY),
    authKey: has(AUTH_KEY),
    backendCredentials: has(UPLINK_KEY) || has(UPLINK_TOKEN),
    mqttPassword: has(MQTT_PASSWORD_KEY),
    mqttCredentials: has(MQTT_CLIENT_KEY),
  };
}

/** The configuration as the export gives it: settings, never a secret, only whether each is set. */
export function exportConfig(kv: KeyValuePort, settings: Settings, firmware: string): object {
  return { format: 'smgw-lite-config', version: 1, firmware, settings, mqtt: loadMqtt(kv), secretsSet: secretsSet(kv) };
}

/** Factory reset: every key-value entry, settings and secrets alike. */
export function wipeKeyValues(kv: KeyValuePort): void {
  for (const k of kv.keys()) kv.delete(k);
}

function save(kv: KeyValuePort, settings: Settings): Settings {
  saveSettings(kv, settings);
  return settings;
}
