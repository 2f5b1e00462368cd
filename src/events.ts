// What happened on the device that a user or an auditor should see: security
// events (a replayed telegram), time corrections, readings lost to a full
// log. A bounded ring in RAM; each line also goes to the console.

export type EventKind = 'security' | 'time' | 'store' | 'config';

export interface DeviceEvent {
  /** Uptime (ms) and wall time (ms, null when the time was not known). */
  uptime: number;
  time: number | null;
  kind: EventKind;
  message: string;
}

const KEPT = 32;

export class EventLog {
  private readonly events: DeviceEvent[] = [];

  add(event: DeviceEvent): void {
    this.events.push(event);
    if (this.events.length > KEPT) this.events.shift();
  }

  /** The newest events, oldest first. */
  list(): DeviceEvent[] {
    return this.events.slice();
  }
}
