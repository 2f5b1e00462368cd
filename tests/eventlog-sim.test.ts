// The event log through the simulator: the firmware records its boots, time,
// decode errors and uploads in flash as it runs; they survive power cuts
// (also in the middle of a flash write), a flood of corrupt telegrams writes
// a bounded number of events, and no secret is in any event, on the device
// or at the backend.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyValue } from '../hosts/sim/kv';
import { describe, expect, it } from 'vitest';
import { JUNE, logEntries, simulate } from './support/sim';
import type { EventEntry, LogEntry } from '../src/formats/entries';
import { ChainVerifier } from '../src/formats/event-chain';
import { nodeCrypto } from '../hosts/node/crypto';
import { METER_KEY } from '../src/config/settings';
import { toHex } from '../src/codec/bytes';

type Ev = EventEntry & { seq: number };
const eventsIn = (entries: LogEntry[]): Ev[] => entries.filter((e): e is Ev => e.type === 'event');

function verified(events: Ev[]) {
  const v = new ChainVerifier(nodeCrypto.sha256);
  for (const e of events) v.add(e);
  return v.status();
}

describe('the event log in a simulated device', () => {
  it('power cuts every 5 hours for two days: every boot is in the log with its cause, and the chain holds', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 2, faults: ['power-cut:every=5h'] });
    const events = eventsIn(logEntries(run));
    const boots = events.filter((e) => e.kind === 'boot');
    expect(run.report.boots.length).toBeGreaterThanOrEqual(9);
    expect(boots).toHaveLength(run.report.boots.length);
    expect(boots.every((b) => b.message === 'boot: power-on or reset (no restart was requested)')).toBe(true);
    // The firmware is new only at the first boot.
    expect(events.filter((e) => e.kind === 'firmware')).toHaveLength(1);
    expect(events.map((e) => e.number)).toEqual(events.map((_, i) => i + 1));
    expect(verified(events)).toMatchObject({ ok: true, events: events.length });
    expect(run.report.log.chain).toMatchObject({ ok: true });
  }, 120_000);

  it('a requested restart and a firmware change between two runs are recorded as such, and the chain continues', async () => {
    const state = mkdtempSync(join(tmpdir(), 'smgw-eventlog-'));
    await simulate({ meter: 'dlms-mbus', days: 2 / 24, state });
    // What the firmware before this one left in NVS, and the flag a requested restart sets.
    const kv = new FileKeyValue(join(state, 'nvs.json'));
    kv.set('firmware', '0.1.0');
    kv.set('restartReason', 'new Wi-Fi settings');
    const second = await simulate({ meter: 'dlms-mbus', days: 2 / 24, state, from: undefined });
    const events = eventsIn(logEntries(second));
    const boots = events.filter((e) => e.kind === 'boot').map((e) => e.message);
    expect(boots).toEqual(['boot: power-on or reset (no restart was requested)', 'boot: restart requested (new Wi-Fi settings)']);
    expect(events.filter((e) => e.kind === 'firmware').map((e) => e.message)).toEqual(['firmware 0.2.0 (first boot with an event log)', 'firmware changed from 0.1.0 to 0.2.0']);
    expect(verified(events)).toMatchObject({ ok: true, events: events.length });
    // The flag is used once.
    expect(new FileKeyValue(join(state, 'nvs.json')).get('restartReason')).toBeUndefined();
  }, 120_000);

  it('power cuts in the middle of flash writes: whatever an event write left, the chain still verifies', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 2, faults: ['power-cut:every=3h,mid-write'] });
    const events = eventsIn(logEntries(run));
    expect(run.report.boots.length).toBeGreaterThanOrEqual(15);
    // A cut can tear the boot's own event record; never more than that.
    expect(events.filter((e) => e.kind === 'boot').length).toBeGreaterThanOrEqual(run.report.boots.length - 2);
    expect(verified(events)).toMatchObject({ ok: true });
  }, 120_000);

  it('a flood of corrupt telegrams (bit errors on most of them for two days) writes at most one decode event an hour', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 2, faults: ['noise:3e-3'] });
    const rejected = Object.values(run.report.telegrams.rejected as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(rejected).toBeGreaterThan(10000);
    const events = eventsIn(logEntries(run));
    const decode = events.filter((e) => e.kind === 'decode');
    expect(decode.length).toBeGreaterThanOrEqual(40);
    expect(decode.length).toBeLessThanOrEqual(48);
    expect(decode[0].message).toMatch(/^decode errors in the last hour: (crc|framing|truncated|structure|wrong-key|auth|uart) \d+/);
    // Everything else is the boot, the firmware and the time: the flood does not reach them.
    expect(events.length).toBeLessThanOrEqual(decode.length + 6);
    // A summary with four classes is about 125 bytes: the flood costs at most about 3 KB of flash a day.
    const eventBytes = run.report.log.eventBytes;
    expect(eventBytes / events.length).toBeLessThan(130);
    expect(eventBytes).toBeLessThan(2 * 3200);
  }, 180_000);

  it('no secret in any event: not the meter key, the device token or key, on the device or at the backend', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 1, backend: 'embedded', backendAuth: 'token', faults: ['replay:' + new Date(JUNE + 5 * 3600000).toISOString()] });
    const kv = run.sim.world.kv;
    const secrets = [toHex(kv.getBytes(METER_KEY)!), kv.get('uplinkToken')!];
    for (const s of secrets) expect(s.length).toBeGreaterThanOrEqual(20);
    const events = eventsIn(logEntries(run));
    expect(events.some((e) => e.kind === 'security')).toBe(true);
    expect(events.some((e) => e.kind === 'upload')).toBe(true);
    const db = readFileSync(join(run.sim.backendDir!, 'backend.db')).toString('latin1');
    for (const text of [JSON.stringify(events.map((e) => e.message)), db]) {
      for (const s of secrets) {
        expect(text).not.toContain(s);
        expect(text.toLowerCase()).not.toContain(s.toLowerCase());
      }
    }
  }, 120_000);
});

