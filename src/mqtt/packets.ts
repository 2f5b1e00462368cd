// MQTT 3.1.1 packets (OASIS standard, 2014) as the device's MQTT host writes
// and reads them: CONNECT with a will, PUBLISH at QoS 0 and 1, PINGREQ and
// DISCONNECT out; CONNACK, PUBACK and PINGRESP in. Plain Uint8Array code, so
// that the same bytes are tested on Node and inside XS (tests/mqtt-packets).
// The device subscribes to nothing, so a PUBLISH from the broker is read only
// to be skipped.

import type { MqttConnectOptions } from '../ports/mqtt';
import { utf8, utf8Encode } from '../codec/utf8';

const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
const PINGREQ = 12;
export const PINGRESP = 13;
const DISCONNECT = 14;

/** The broker's CONNACK return codes 1..5 in words (3.2.2.3). */
export const CONNACK_REFUSALS = ['', 'unacceptable protocol version', 'client id rejected', 'server unavailable', 'bad user name or password', 'not authorised'];

/** The most a packet's remaining length may say (4 bytes of varint). */
const MAX_REMAINING = 268435455;

function lengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

function putLength(out: Uint8Array, at: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out[at++] = b;
  } while (n > 0);
  return at;
}

function putString(out: Uint8Array, at: number, bytes: Uint8Array): number {
  out[at] = bytes.length >> 8;
  out[at + 1] = bytes.length & 0xff;
  out.set(bytes, at + 2);
  return at + 2 + bytes.length;
}

function packet(type: number, flags: number, remaining: number): { out: Uint8Array; at: number } {
  if (remaining > MAX_REMAINING) throw new RangeError('MQTT packet too long');
  const out = new Uint8Array(1 + lengthBytes(remaining) + remaining);
  out[0] = (type << 4) | flags;
  return { out, at: putLength(out, 1, remaining) };
}

export function encodeConnect(o: MqttConnectOptions): Uint8Array {
  const id = utf8Encode(o.clientId);
  const user = o.username ? utf8Encode(o.username) : null;
  const password = o.password ? utf8Encode(o.password) : null;
  const willTopic = o.will ? utf8Encode(o.will.topic) : null;
  const willPayload = o.will ? utf8Encode(o.will.payload) : null;
  // Variable header: "MQTT", level 4, flags, keep alive.
  let remaining = 10 + 2 + id.length;
  let flags = 0x02; // clean session: the firmware's log, not the broker, keeps what is unacknowledged
  if (willTopic && willPayload) {
    remaining += 4 + willTopic.length + willPayload.length;
    flags |= 0x04 | (o.will!.qos << 3) | (o.will!.retain ? 0x20 : 0);
  }
  if (user) {
    remaining += 2 + user.length;
    flags |= 0x80;
  }
  if (password) {
    remaining += 2 + password.length;
    flags |= 0x40;
  }
  const { out, at: start } = packet(CONNECT, 0, remaining);
  let at = putString(out, start, Uint8Array.of(0x4d, 0x51, 0x54, 0x54));
  out[at++] = 4;
  out[at++] = flags;
  out[at++] = (o.keepAlive >> 8) & 0xff;
  out[at++] = o.keepAlive & 0xff;
  at = putString(out, at, id);
  if (willTopic && willPayload) {
    at = putString(out, at, willTopic);
    at = putString(out, at, willPayload);
  }
  if (user) at = putString(out, at, user);
  if (password) {
    at = putString(out, at, password);
    password.fill(0);
  }
  return out;
}

export function encodePublish(topic: string, payload: Uint8Array, qos: 0 | 1, retain: boolean, id: number): Uint8Array {
  const t = utf8Encode(topic);
  const { out, at: start } = packet(PUBLISH, (qos << 1) | (retain ? 1 : 0), 2 + t.length + (qos ? 2 : 0) + payload.length);
  let at = putString(out, start, t);
  if (qos) {
    out[at++] = id >> 8;
    out[at++] = id & 0xff;
  }
  out.set(payload, at);
  return out;
}

export const PINGREQ_PACKET = Uint8Array.of(PINGREQ << 4, 0);
export const DISCONNECT_PACKET = Uint8Array.of(DISCONNECT << 4, 0);

/** A packet from the broker: its type, flags and body (the bytes after the fixed header). */
export interface Incoming {
  type: number;
  flags: number;
  body: Uint8Array;
}

/**
 * Splits the broker's byte stream into packets, whatever the chunks the
 * socket hands over. A packet longer than `maxPacket` (a broker sending the
 * device something it never subscribed to) is skipped without being kept.
 */
export class PacketReader {
  private readonly maxPacket: number;
  private header = new Uint8Array(5);
  private headerLength = 0;
  private body: Uint8Array | null = null;
  private bodyAt = 0;
  private skip = 0;
  private type = 0;
  private flags = 0;

  constructor(maxPacket = 1024) {
    this.maxPacket = maxPacket;
  }

  /** Feeds received bytes; calls `onPacket` for every whole packet. Throws on a malformed length. */
  push(bytes: Uint8Array, onPacket: (p: Incoming) => void): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      if (this.body) {
        const n = Math.min(this.body.length - this.bodyAt, bytes.length - i);
        this.body.set(bytes.subarray(i, i + n), this.bodyAt);
        this.bodyAt += n;
        i += n;
        if (this.bodyAt === this.body.length) this.emit(onPacket);
        continue;
      }
      this.header[this.headerLength++] = bytes[i++];
      if (this.headerLength === 1) continue;
      const last = this.header[this.headerLength - 1];
      if (last & 0x80) {
        if (this.headerLength === 5) throw new Error('MQTT: malformed remaining length');
        continue;
      }
      let remaining = 0;
      for (let k = this.headerLength - 1; k >= 1; k--) remaining = remaining * 128 + (this.header[k] & 0x7f);
      this.type = this.header[0] >> 4;
      this.flags = this.header[0] & 0x0f;
      this.headerLength = 0;
      if (remaining > this.maxPacket) this.skip = remaining;
      else {
        this.body = new Uint8Array(remaining);
        this.bodyAt = 0;
        if (remaining === 0) this.emit(onPacket);
      }
    }
  }

  private emit(onPacket: (p: Incoming) => void): void {
    const body = this.body!;
    this.body = null;
    onPacket({ type: this.type, flags: this.flags, body });
  }
}

/** CONNACK's return code (0: accepted). */
export function connackCode(p: Incoming): number {
  return p.body.length >= 2 ? p.body[1] : 255;
}

/** The packet id of a PUBACK. */
export function packetId(p: Incoming): number {
  return p.body.length >= 2 ? (p.body[0] << 8) | p.body[1] : 0;
}

/** The topic of a PUBLISH from the broker (for the console: the device never subscribes). */
export function publishTopic(p: Incoming): string {
  const n = p.body.length >= 2 ? (p.body[0] << 8) | p.body[1] : 0;
  return utf8(p.body, 2, Math.min(p.body.length, 2 + n));
}
