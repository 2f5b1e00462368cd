// MQTT on the desktop: mqtt.js (MQTT 3.1.1) to a real broker, one connection
// at a time, with its own reconnect and offline queue switched off (the
// firmware does both, from its flash log, as on the device). TLS is what the
// device's TLS offers: 1.2, the CA pinned, the client certificate. Every
// connection attempt, every QoS 1 message until its PUBACK and every QoS 0
// message until it is written is tracked by
// the scheduler, so that at --speed max virtual time waits for the broker
// instead of running past it.

import mqtt, { type MqttClient } from 'mqtt';
import type { VirtualTime } from './virtual-time';
import type { MqttConnectOptions, MqttEvent, MqttPort } from '../../src/ports/mqtt';

function pem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export class SimMqtt implements MqttPort {
  private readonly scheduler: VirtualTime;
  private readonly run: (callback: () => void) => void | Promise<void>;
  private readonly online: () => boolean;
  private client: MqttClient | null = null;
  private emit: ((event: MqttEvent) => void) | null = null;
  private connected = false;
  private nextId = 1;
  /** Settles the scheduler's wait for the connection attempt and for each unacknowledged message. */
  private readonly waits = new Set<() => void>();

  constructor(scheduler: VirtualTime, run: (callback: () => void) => void | Promise<void> = (c) => c(), online: () => boolean = () => true) {
    this.scheduler = scheduler;
    this.run = run;
    this.online = online;
  }

  private wait(): () => void {
    let done!: () => void;
    void this.scheduler.track(new Promise<void>((resolve) => (done = resolve)));
    const settle = () => {
      this.waits.delete(settle);
      done();
    };
    this.waits.add(settle);
    return settle;
  }

  open(o: MqttConnectOptions, onEvent: (event: MqttEvent) => void): void {
    this.end(true);
    let closed = false;
    const connecting = this.wait();
    const emit = (event: MqttEvent) => {
      if (closed) return;
      if (event.type === 'closed') {
        closed = true;
        this.connected = false;
        if (this.emit === emit) this.emit = null;
        for (const w of [...this.waits]) w();
      }
      void this.run(() => onEvent(event));
    };
    this.emit = emit;
    if (!this.online()) {
      this.scheduler.after(0, () => emit({ type: 'closed', reason: `network down: no route to ${o.host}:${o.port}` }));
      return;
    }
    let reason = 'the broker closed the connection';
    const client = mqtt.connect({
      host: o.host,
      port: o.port,
      protocol: o.tls ? 'mqtts' : 'mqtt',
      protocolVersion: 4,
      clientId: o.clientId,
      clean: true,
      keepalive: o.keepAlive,
      reconnectPeriod: 0,
      connectTimeout: 30000,
      queueQoSZero: false,
      username: o.username,
      password: o.password,
      will: o.will ? { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: o.will.qos, retain: o.will.retain } : undefined,
      ...(o.tls
        ? {
            ca: pem(o.tls.ca, 'CERTIFICATE'),
            cert: o.tls.certificate ? pem(o.tls.certificate, 'CERTIFICATE') : undefined,
            key: o.tls.key ? pem(o.tls.key, 'PRIVATE KEY') : undefined,
            rejectUnauthorized: true,
            minVersion: 'TLSv1.2' as const,
            maxVersion: 'TLSv1.2' as const,
          }
        : {}),
    });
    this.client = client;
    client.on('connect', () => {
      this.connected = true;
      connecting();
      emit({ type: 'connected' });
    });
    client.on('error', (e: Error & { code?: string | number }) => {
      reason = e.message || String(e.code);
    });
    client.on('close', () => {
      if (this.client === client) this.client = null;
      client.end(true);
      emit({ type: 'closed', reason });
    });
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1, retain: boolean): number {
    const client = this.client;
    if (!client || !this.connected) throw new Error('MQTT: not connected');
    const emit = this.emit!;
    const id = qos ? this.nextId : 0;
    if (qos) this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    // QoS 1 until its PUBACK, QoS 0 until it is written: virtual time does not outrun the socket.
    const settled = this.wait();
    client.publish(topic, Buffer.from(payload), { qos, retain }, (error) => {
      settled();
      if (qos && !error && this.client === client) emit({ type: 'acked', id });
    });
    return id;
  }

  close(): void {
    // Without a network a DISCONNECT never reaches the broker, which then sends the will, as it would for the device.
    this.end(!this.online());
  }

  /** Ends the connection: with DISCONNECT (close), or as a power cut does, without (the broker sends the will). */
  private end(abrupt: boolean): void {
    const client = this.client;
    const emit = this.emit;
    if (!client) return;
    this.client = null;
    this.connected = false;
    if (abrupt) client.stream?.destroy();
    else client.end(false);
    emit?.({ type: 'closed', reason: 'closed by the gateway' });
  }

  /** The device lost power: its connection ends without DISCONNECT. */
  closeAll(): void {
    this.emit = null;
    this.end(true);
    for (const w of [...this.waits]) w();
  }
}
