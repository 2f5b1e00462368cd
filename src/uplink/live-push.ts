// The live channel: TAF 14 values to the backend, for the dashboard's Live
// view and the current power on its overview. Nothing of it is stored on the
// device or delivered again; a push that fails is simply superseded by the
// next one.
//
// Every push is a TLS handshake, which costs the ESP32 about a second of CPU
// and 40 KB of RAM while it lasts. So the device pushes often only while
// somebody looks: the backend answers each push with whether the meter's
// Live view is open ("watched"). Watched, it pushes every `live` seconds
// (default 10) all values since the last push; otherwise once a minute, the
// newest value only. It does not push before the time is known, without
// Wi-Fi, or while a delivery is on its way (BackendClient sends one request
// at a time).

import type { ClockPort, Timer } from '../ports/clock';
import type { NetworkPort } from '../ports/network';
import type { LiveRing } from '../taf/live';
import type { Timekeeper } from '../time/timekeeper';
import type { BackendClient, DeviceReport } from './client';
import type { UplinkSettings } from './settings';
import { jsonText } from '../codec/json';
import { LIVE_CONTENT_TYPE, LIVE_PATH, type LivePushAnswer, type LivePushBody, type LiveRow } from '../formats/live';

/** Seconds between pushes while nobody watches (keeps the overview's current power and the device list fresh). */
const IDLE_PUSH_S = 60;
/** Failed pushes back off up to this many seconds. */
const MAX_BACKOFF_S = 600;

export interface LivePushStats {
  pushes: number;
  values: number;
  failures: number;
  lastError: string | null;
  /** Whether the backend said, in its last answer, that somebody watches. */
  watched: boolean;
}

/** A float32 from the ring as the meter sent it (3 decimals at most), not as 1234.5670166015625. */
function rounded(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export class LivePush {
  readonly stats: LivePushStats = { pushes: 0, values: 0, failures: 0, lastError: null, watched: false };
  private readonly clock: ClockPort;
  private readonly network: NetworkPort;
  private readonly client: BackendClient;
  private readonly ring: LiveRing;
  private readonly time: Timekeeper;
  private readonly settings: UplinkSettings;
  private readonly source: { meterId(): string | null; report(): DeviceReport };
  private readonly say: (line: string) => void;
  private timer: Timer | null = null;
  /** Uptime (ms) of the newest value the backend has accepted. */
  private sentUntil = -Infinity;
  private failuresInRow = 0;

  constructor(
    ports: { clock: ClockPort; network: NetworkPort },
    client: BackendClient,
    ring: LiveRing,
    time: Timekeeper,
    settings: UplinkSettings,
    source: { meterId(): string | null; report(): DeviceReport },
    say: (line: string) => void,
  ) {
    this.clock = ports.clock;
    this.network = ports.network;
    this.client = client;
    this.ring = ring;
    this.time = time;
    this.settings = settings;
    this.source = source;
    this.say = say;
  }

  start(): void {
    if (this.settings.live > 0) this.plan(this.settings.live);
  }

  stop(): void {
    if (this.timer) this.clock.cancel(this.timer);
    this.timer = null;
  }

  private plan(seconds: number): void {
    this.timer = this.clock.after(seconds * 1000, () => {
      this.timer = null;
      void this.push();
    });
  }

  private async push(): Promise<void> {
    let next = this.stats.watched ? this.settings.live : IDLE_PUSH_S;
    try {
      if (!this.time.synced || this.network.address() === null || this.client.busy) return;
      // Watched: every value since the last push; otherwise the newest only.
      const values = this.ring.recent(this.stats.watched ? this.ring.capacity : 1).filter((v) => v.at > this.sentUntil);
      if (!values.length) return;
      const rows = values.map((v) => {
        const row: LiveRow = { time: Math.round(this.time.wall(v.at)) };
        for (const c in v.values) (row as { [channel: string]: number })[c] = rounded((v.values as { [c: string]: number })[c]);
        return row;
      });
      const push: LivePushBody = { deviceId: this.settings.deviceId, meterId: this.source.meterId(), interval: this.ring.interval, values: rows };
      const answer = await this.client.post(LIVE_PATH, LIVE_CONTENT_TYPE, jsonText(push), this.source.report());
      this.sentUntil = values[values.length - 1].at;
      this.stats.pushes++;
      this.stats.values += values.length;
      this.stats.watched = (answer as Partial<LivePushAnswer>).watched === true;
      this.stats.lastError = null;
      this.failuresInRow = 0;
      next = this.stats.watched ? this.settings.live : IDLE_PUSH_S;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.stats.failures++;
      this.stats.lastError = message;
      this.stats.watched = false;
      // Said once per run of failures: the backend being away for a night must not fill the console.
      if (this.failuresInRow++ === 0) this.say(`live: ${message}; retrying quietly`);
      next = Math.min(MAX_BACKOFF_S, IDLE_PUSH_S * this.failuresInRow);
    } finally {
      this.plan(next);
    }
  }
}
