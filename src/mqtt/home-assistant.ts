// Home Assistant's MQTT discovery (https://www.home-assistant.io/integrations/mqtt/
// and .../sensor.mqtt/): one retained config per sensor under
// `{prefix}/sensor/{node}/{object}/config`, all with the same device block,
// so that Home Assistant shows one device with its sensors and nothing needs
// YAML. Energy registers are `device_class: energy`, `state_class:
// total_increasing` in kWh: exactly what the Energy dashboard offers for
// "grid consumption" and "return to grid". Power, voltage and current are
// measurements. Availability is the gateway's own topic, which the broker
// sets to "offline" by the connection's will.

import { FIRMWARE_VERSION } from '../version';
import { rounded } from './omdp';
import { jsonText } from '../codec/json';

export const AVAILABLE = 'online';
export const NOT_AVAILABLE = 'offline';

export interface GatewayTopics {
  /** `{topic}/{clientId}`: availability, state and live of this gateway. */
  base: string;
  availability: string;
  /** TAF 7 registers in kWh: {"1_8_0": 1234.567, ...} (retained). */
  state: string;
  /** TAF 14 values: {"p": 412.3, "u1": 231.2, ...}. */
  live: string;
}

export function gatewayTopics(topic: string, clientId: string): GatewayTopics {
  const base = `${topic}/${objectIdOf(clientId)}`;
  return { base, availability: `${base}/availability`, state: `${base}/state`, live: `${base}/live` };
}

/** A discovery id part: letters, digits and "_" (the discovery topic's node and object ids allow no more). */
export function objectIdOf(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The key of an energy register in the state topic: "1-0:1.8.0" -> "1_8_0", another channel "1_1_1_8_0". */
function stateKeyOf(obis: string): string {
  return objectIdOf(obis.startsWith('1-0:') ? obis.slice(4) : obis).replace(/-/g, '_');
}

interface Sensor {
  object: string;
  name: string;
  deviceClass: 'energy' | 'power' | 'voltage' | 'current';
  stateClass: 'total_increasing' | 'measurement';
  unit: string;
  topic: string;
  key: string;
  precision: number;
}

const REGISTER_NAMES: { [cd: string]: string } = {
  '1.8': 'Energy import',
  '2.8': 'Energy export',
};

/** The sensor of an energy register in Wh, or null for one Home Assistant's energy class does not cover (varh, VAh). */
function energySensor(obis: string, unit: string, topics: GatewayTopics): Sensor | null {
  if (unit !== 'Wh') return null;
  const m = /^\d+-\d+:(\d+)\.(\d+)\.(\d+)$/.exec(obis);
  if (!m) return null;
  const base = REGISTER_NAMES[`${m[1]}.${m[2]}`] ?? `Energy ${m[1]}.${m[2]}`;
  const name = m[3] === '0' ? base : `${base} tariff ${m[3]}`;
  const key = stateKeyOf(obis);
  return { object: `energy_${key}`, name, deviceClass: 'energy', stateClass: 'total_increasing', unit: 'kWh', topic: topics.state, key, precision: 3 };
}

const LIVE_SENSORS: { [channel: string]: [name: string, deviceClass: Sensor['deviceClass'], unit: string, precision: number] } = {
  p: ['Power', 'power', 'W', 0],
  p1: ['Power L1', 'power', 'W', 0],
  p2: ['Power L2', 'power', 'W', 0],
  p3: ['Power L3', 'power', 'W', 0],
  u1: ['Voltage L1', 'voltage', 'V', 1],
  u2: ['Voltage L2', 'voltage', 'V', 1],
  u3: ['Voltage L3', 'voltage', 'V', 1],
  i1: ['Current L1', 'current', 'A', 2],
  i2: ['Current L2', 'current', 'A', 2],
  i3: ['Current L3', 'current', 'A', 2],
};

function liveSensor(channel: string, topics: GatewayTopics): Sensor | null {
  const s = LIVE_SENSORS[channel];
  return s ? { object: channel, name: s[0], deviceClass: s[1], stateClass: 'measurement', unit: s[2], topic: topics.live, key: channel, precision: s[3] } : null;
}

export interface Discovery {
  topic: string;
  payload: string;
}

export interface DeviceInfo {
  clientId: string;
  meterId: string | null;
  /** The meter's protocol (sml, dlms ...), for the device's model. */
  protocol: string;
}

function config(s: Sensor, prefix: string, topics: GatewayTopics, device: DeviceInfo): Discovery {
  const node = `smgw_${objectIdOf(device.clientId)}`;
  const uniqueId = `${node}_${s.object}`;
  return {
    topic: `${prefix}/sensor/${node}/${s.object}/config`,
    payload: jsonText({
      name: s.name,
      unique_id: uniqueId,
      state_topic: s.topic,
      value_template: `{{ value_json['${s.key}'] }}`,
      device_class: s.deviceClass,
      state_class: s.stateClass,
      unit_of_measurement: s.unit,
      suggested_display_precision: s.precision,
      availability_topic: topics.availability,
      payload_available: AVAILABLE,
      payload_not_available: NOT_AVAILABLE,
      device: {
        identifiers: [node],
        name: device.meterId ? `Smart meter ${device.meterId}` : 'smgw-lite gateway',
        manufacturer: 'smgw-lite',
        model: `smgw-lite gateway (${device.protocol})`,
        sw_version: FIRMWARE_VERSION,
        ...(device.meterId ? { serial_number: device.meterId } : {}),
      },
    }),
  };
}

/** The discovery configs for these energy registers (OBIS -> unit) and live channels. */
export function discoveryConfigs(prefix: string, topics: GatewayTopics, device: DeviceInfo, registers: { [obis: string]: string }, channels: string[]): Discovery[] {
  const out: Discovery[] = [];
  for (const obis in registers) {
    const s = energySensor(obis, registers[obis], topics);
    if (s) out.push(config(s, prefix, topics, device));
  }
  for (const c of channels) {
    const s = liveSensor(c, topics);
    if (s) out.push(config(s, prefix, topics, device));
  }
  return out;
}

/** The energy state: registers in kWh by state key. */
export function energyState(values: { [obis: string]: { value: number; unit: string } }): string {
  const out: { [key: string]: number } = {};
  for (const obis in values) if (values[obis].unit === 'Wh') out[stateKeyOf(obis)] = Math.round(values[obis].value) / 1000;
  return jsonText(out);
}

/** The live state: W, V, A by channel. */
export function liveState(values: { [channel: string]: number | undefined }): string {
  const out: { [key: string]: number } = {};
  for (const c in values) if (values[c] !== undefined) out[c] = rounded(values[c]!);
  return jsonText(out);
}
