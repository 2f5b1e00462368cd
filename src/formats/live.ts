// The live push (TAF 14, docs/uplink.md "Live values"): what a device posts to
// the backend's /api/v1/live while online, and what the backend answers. The
// device builds it (uplink/live-push.ts), the backend checks it and serves it
// to the dashboard: one definition of its channels, units and shape for both.

/** The channels: active power (net, per phase) in W, per-phase voltage in V and current in A. */
export const LIVE_CHANNELS = ['p', 'p1', 'p2', 'p3', 'u1', 'u2', 'u3', 'i1', 'i2', 'i3'] as const;
export type LiveChannel = (typeof LIVE_CHANNELS)[number];
/** The unit of each channel, as the ring keeps it (whatever unit the meter sent). */
export const LIVE_UNITS: { readonly [c in LiveChannel]: 'W' | 'V' | 'A' } = { p: 'W', p1: 'W', p2: 'W', p3: 'W', u1: 'V', u2: 'V', u3: 'V', i1: 'A', i2: 'A', i3: 'A' };

export const LIVE_PATH = '/api/v1/live';
export const LIVE_CONTENT_TYPE = 'application/json';

/** One value: its wall time (ms since the epoch) and the channels the meter sent. */
export type LiveRow = { time: number } & { [c in LiveChannel]?: number };

/** The push body. */
export interface LivePushBody {
  deviceId: string;
  meterId: string | null;
  /** Seconds between the values the device keeps. */
  interval: number;
  values: LiveRow[];
}

/** The backend's answer: whether somebody has the meter's Live view open. */
export interface LivePushAnswer {
  watched: boolean;
}
