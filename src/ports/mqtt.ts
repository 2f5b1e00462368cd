// MQTT port: one connection to one broker (MQTT 3.1.1, clean session), as
// the publisher uses it. The host connects, keeps the connection alive
// (PINGREQ every keepAlive seconds), sends what it is given and reports
// CONNACK, PUBACK and the end of the connection as events. It never
// reconnects by itself and keeps no queue: what to send again after a
// reconnect is the firmware's decision (its flash log is the queue), and a
// second copy of the unacknowledged backlog in a host library's RAM would not
// fit on the device.

import type { TlsOptions } from './http';

interface MqttWill {
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain: boolean;
}

export interface MqttConnectOptions {
  host: string;
  port: number;
  clientId: string;
  /** Seconds; the host sends PINGREQ when it has sent nothing for this long, and gives up on a broker that does not answer. */
  keepAlive: number;
  username?: string;
  password?: string;
  /** TLS with the pinned CA and, for mutual TLS, the client certificate and key (DER). Without it: plain TCP. */
  tls?: TlsOptions;
  will?: MqttWill;
}

/**
 * What a connection reports, in this order: `connected` once (CONNACK
 * accepted), `acked` for every QoS 1 publish the broker acknowledged
 * (PUBACK, by the id publish returned), then `closed` once, with why in
 * words. A connection refused or failed before CONNACK reports `closed` only.
 */
export type MqttEvent = { type: 'connected' } | { type: 'acked'; id: number } | { type: 'closed'; reason: string };

export interface MqttPort {
  /** Opens the connection (closing one that is open); `onEvent` hears this connection's events only. */
  open(options: MqttConnectOptions, onEvent: (event: MqttEvent) => void): void;
  /**
   * Sends a PUBLISH on the open, connected connection. Returns the packet id
   * of a QoS 1 message (1..65535, reported back by `acked`), 0 for QoS 0.
   * Throws when not connected.
   */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1, retain: boolean): number;
  /** Ends the connection (DISCONNECT, so the broker does not send the will); `closed` follows. */
  close(): void;
}
