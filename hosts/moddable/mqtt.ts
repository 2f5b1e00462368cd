// MQTT port on Moddable: MQTT 3.1.1 packets (src/mqtt/packets.ts) over the
// classic Socket, or over SecureSocket for TLS (1.2, the CA pinned, the
// client certificate) — the same TLS stack the HTTPS uplink uses.
//
// Why not one of the SDK's MQTT clients (docs/mqtt.md): the classic `mqtt`
// module publishes at QoS 0 only (it parses PUBACK but never reports it), and
// the ECMA-419 client in examples/io/tcp/mqttclient needs the ECMA-419 TLS
// socket, whose `ssl/session` module (session_419) has the same name as, and
// another API than, the classic one (session_original) that SecureSocket and
// so the HTTPS uplink are built on: one app cannot hold both. The packets the
// firmware needs (CONNECT with a will, PUBLISH QoS 0/1, PUBACK, PINGREQ,
// DISCONNECT) are a few hundred bytes of code, tested on Node and in XS.
//
// Times are Time.ticks (ms since boot): SNTP setting the wall clock must not
// look like a silent broker. Writes go out as the socket has room (a packet larger than its send
// buffer is written in parts); keep-alive sends PINGREQ after keepAlive
// seconds without a packet sent, and a broker silent for 1.5 times that
// ends the connection.

import { Socket } from 'socket';
import SecureSocket from 'securesocket';
import Time from 'time';
import Timer from 'timer';
import type { MqttConnectOptions, MqttEvent, MqttPort } from '../../src/ports/mqtt';
import {
  CONNACK, CONNACK_REFUSALS, DISCONNECT_PACKET, PINGREQ_PACKET, PUBACK, PUBLISH, PacketReader, connackCode, encodeConnect, encodePublish, packetId, publishTopic, type Incoming,
} from '../../src/mqtt/packets';

interface AnySocket {
  callback: (message: number, value?: number) => void;
  read(type: typeof ArrayBuffer): ArrayBuffer;
  write(...data: ArrayBuffer[]): number | void;
  close(): void;
}

const CONNECT_TIMEOUT_MS = 30000;
/** Room assumed right after connecting, before the socket has reported any. */
const FIRST_ROOM = 512;
/** Queued output at most: a publisher that outruns the socket gets an error rather than exhausting RAM. */
const MAX_QUEUED = 16 * 1024;

function buffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
}

class Connection {
  private readonly socket: AnySocket;
  private readonly emit: (event: MqttEvent) => void;
  private readonly reader = new PacketReader(1024);
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private room = 0;
  private open = false;
  connected = false;
  private closed = false;
  private nextId = 1;
  private readonly keepAliveMs: number;
  private lastSent = 0;
  private lastHeard = 0;
  private timer: Timer | undefined;

  constructor(o: MqttConnectOptions, emit: (event: MqttEvent) => void) {
    this.emit = emit;
    this.keepAliveMs = o.keepAlive * 1000;
    const connect = encodeConnect(o);
    const dictionary: { [k: string]: unknown } = { host: o.host, port: o.port };
    if (o.tls) {
      const secure: { [k: string]: unknown } = { protocolVersion: 0x303, certificate: buffer(o.tls.ca), verify: true };
      if (o.tls.certificate && o.tls.key) {
        secure.clientKey = buffer(o.tls.key);
        secure.clientCertificates = [buffer(o.tls.certificate)];
      }
      dictionary.secure = secure;
      this.socket = new SecureSocket(dictionary) as unknown as AnySocket;
    } else {
      this.socket = new Socket(dictionary as never) as unknown as AnySocket;
    }
    this.socket.callback = (message: number, value?: number) => this.onSocket(message, value ?? 0);
    this.queue.push(connect);
    this.queued = connect.length;
    const started = Time.ticks;
    this.timer = Timer.repeat(() => this.tick(started), 1000);
  }

  private onSocket(message: number, value: number): void {
    if (this.closed) return;
    try {
      if (message === 1) {
        this.open = true;
        this.room = FIRST_ROOM;
        this.lastHeard = Time.ticks;
        this.flush();
      } else if (message === 2) {
        const bytes = new Uint8Array(this.socket.read(ArrayBuffer));
        this.lastHeard = Time.ticks;
        this.reader.push(bytes, (p) => this.onPacket(p));
      } else if (message === 3) {
        this.room = value;
        this.flush();
      } else if (message < 0) {
        this.end(message === -1 ? 'the broker closed the connection' : 'connection failed (network or TLS)');
      }
    } catch (e) {
      this.end(e instanceof Error ? e.message : String(e));
    }
  }

  private onPacket(p: Incoming): void {
    if (p.type === CONNACK) {
      const code = connackCode(p);
      if (code !== 0) {
        this.end(`the broker refused the connection: ${CONNACK_REFUSALS[code] ?? 'code ' + code}`);
        return;
      }
      this.connected = true;
      this.emit({ type: 'connected' });
    } else if (p.type === PUBACK) {
      this.emit({ type: 'acked', id: packetId(p) });
    } else if (p.type === PUBLISH) {
      trace(`mqtt: ignored a message on ${publishTopic(p)} (nothing is subscribed)\n`);
    }
  }

  send(packet: Uint8Array): void {
    if (this.queued + packet.length > MAX_QUEUED) throw new Error('MQTT: the socket is not keeping up');
    this.queue.push(packet);
    this.queued += packet.length;
    this.lastSent = Time.ticks;
    this.flush();
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1, retain: boolean): number {
    if (!this.connected) throw new Error('MQTT: not connected');
    const id = qos ? this.nextId : 0;
    if (qos) this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    this.send(encodePublish(topic, payload, qos, retain, id));
    return id;
  }

  private flush(): void {
    if (!this.open) return;
    // SecureSocket and Socket both say how much they take now when asked with no data.
    const now = this.socket.write();
    if (typeof now === 'number') this.room = now;
    while (this.queue.length && this.room > 0) {
      const head = this.queue[0];
      const n = Math.min(head.length, this.room);
      this.socket.write(buffer(head.subarray(0, n)));
      this.room -= n;
      this.queued -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
  }

  private tick(started: number): void {
    const now = Time.ticks;
    if (!this.connected) {
      if (now - started > CONNECT_TIMEOUT_MS) this.end('the broker did not answer CONNECT in 30 s');
      return;
    }
    if (!this.keepAliveMs) return;
    if (now - this.lastHeard > this.keepAliveMs * 1.5) this.end('the broker stopped answering (keep-alive)');
    else if (now - this.lastSent >= this.keepAliveMs) this.send(PINGREQ_PACKET);
  }

  /** DISCONNECT first when `polite` (the broker then does not send the will). */
  close(polite: boolean): void {
    if (this.closed) return;
    if (polite && this.connected) {
      try {
        this.send(DISCONNECT_PACKET);
      } catch {
        // closing anyway
      }
    }
    this.end('closed by the gateway');
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    if (this.timer !== undefined) Timer.clear(this.timer);
    this.timer = undefined;
    try {
      this.socket.close();
    } catch {
      // already closed by the peer
    }
    this.emit({ type: 'closed', reason });
  }
}

export class ModdableMqtt implements MqttPort {
  private connection: Connection | null = null;

  open(options: MqttConnectOptions, onEvent: (event: MqttEvent) => void): void {
    this.connection?.close(true);
    let connection: Connection | null = null;
    const emit = (event: MqttEvent) => {
      if (event.type === 'closed' && this.connection === connection) this.connection = null;
      onEvent(event);
    };
    try {
      connection = new Connection(options, emit);
      this.connection = connection;
    } catch (e) {
      // A bad certificate or key is refused by the TLS session's constructor: the same event as a failed connection.
      const reason = e instanceof Error ? e.message : String(e);
      Timer.set(() => onEvent({ type: 'closed', reason: `cannot connect: ${reason}` }), 0);
    }
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1, retain: boolean): number {
    if (!this.connection) throw new Error('MQTT: not connected');
    return this.connection.publish(topic, payload, qos, retain);
  }

  close(): void {
    this.connection?.close(true);
  }
}
