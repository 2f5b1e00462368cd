// The MQTT settings the portal keeps (key `mqtt`), and the credentials the
// connection uses. The broker's password and the client key are secrets,
// under keys of their own; the CA and client certificate default to the
// enrolment bundle's (the backend's embedded broker trusts them), and may be
// replaced by others uploaded in the portal (AWS IoT Core, a home broker).

import type { KeyValuePort } from '../ports/kv';
import type { TlsOptions } from '../ports/http';
import { UPLINK_CA, UPLINK_CERT, UPLINK_KEY } from '../uplink/enrolment';
import { jsonText } from '../codec/json';

export const MQTT_KEY = 'mqtt';
export const MQTT_PASSWORD_KEY = 'mqttPassword';
export const MQTT_CA_KEY = 'mqttCa';
export const MQTT_CERT_KEY = 'mqttCert';
export const MQTT_CLIENT_KEY = 'mqttKey';

export interface MqttSettings {
  host: string;
  port: number;
  user: string;
  /** The base of this gateway's own topics: `{topic}/{clientId}/availability`, `.../state`, `.../live`. */
  topic: string;
  /** The MQTT client id; empty: the enrolled device id, else "smgw-lite". AWS IoT Core wants the thing name. */
  clientId: string;
  /** TLS with the pinned CA (and the client certificate where there is one). */
  tls: boolean;
  /** OMDP MeterReadings (TAF 7, TAF 6) to smartMeterMessage/{meterId}/readings, QoS 1, from the log's own cursor. */
  omdp: boolean;
  /** TAF 14 live values to smartMeterMessage/{meterId}/live (and to Home Assistant's state topic). */
  live: boolean;
  /** Home Assistant discovery under `discoveryPrefix`/sensor/..., with state topics. */
  homeAssistant: boolean;
  discoveryPrefix: string;
}

export const DEFAULT_MQTT: MqttSettings = {
  host: '',
  port: 1883,
  user: '',
  topic: 'smgw',
  clientId: '',
  tls: false,
  omdp: true,
  live: true,
  homeAssistant: true,
  discoveryPrefix: 'homeassistant',
};

/** A topic level the gateway writes: letters, digits and - _ . only (no / + # or spaces; AWS IoT and HA accept these). */
export const TOPIC_LEVEL = /^[A-Za-z0-9_.-]{1,64}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** Reads the stored settings; null when MQTT is off (nothing stored) or the stored text is unusable. */
export function loadMqtt(kv: KeyValuePort): MqttSettings | null {
  const text = kv.get(MQTT_KEY);
  if (!text) return null;
  let s: Partial<MqttSettings>;
  try {
    s = JSON.parse(text) as Partial<MqttSettings>;
  } catch {
    return null;
  }
  if (!s || typeof s.host !== 'string' || !HOST.test(s.host)) return null;
  const flag = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);
  const level = (v: unknown, d: string) => (typeof v === 'string' && TOPIC_LEVEL.test(v) ? v : d);
  return {
    host: s.host,
    port: Number.isInteger(s.port) && s.port! >= 1 && s.port! <= 65535 ? s.port! : DEFAULT_MQTT.port,
    user: typeof s.user === 'string' ? s.user : '',
    topic: level(s.topic, DEFAULT_MQTT.topic),
    clientId: typeof s.clientId === 'string' && /^[\x21-\x7e]{1,128}$/.test(s.clientId) ? s.clientId : '',
    // Settings stored before TLS was a choice: port 8883 is MQTT over TLS.
    tls: flag(s.tls, s.port === 8883),
    omdp: flag(s.omdp, DEFAULT_MQTT.omdp),
    live: flag(s.live, DEFAULT_MQTT.live),
    homeAssistant: flag(s.homeAssistant, DEFAULT_MQTT.homeAssistant),
    discoveryPrefix: level(s.discoveryPrefix, DEFAULT_MQTT.discoveryPrefix),
  };
}

export function saveMqtt(kv: KeyValuePort, settings: MqttSettings): void {
  kv.set(MQTT_KEY, jsonText(settings));
}

/** The TLS options of the connection: the MQTT credentials uploaded in the portal, else the enrolment bundle's. Null: no CA to pin. */
export function loadMqttTls(kv: KeyValuePort): TlsOptions | null {
  const own = kv.getBytes(MQTT_CA_KEY);
  const ca = own ?? kv.getBytes(UPLINK_CA);
  if (!ca) return null;
  const ownCert = kv.getBytes(MQTT_CERT_KEY);
  const certificate = ownCert ?? (own ? undefined : kv.getBytes(UPLINK_CERT));
  const key = ownCert ? kv.getBytes(MQTT_CLIENT_KEY) : own ? undefined : kv.getBytes(UPLINK_KEY);
  return certificate && key ? { ca, certificate, key } : { ca };
}
