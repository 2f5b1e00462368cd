// The firmware on the simulated device, against each virtual meter: what the
// meter log says was sent is what the firmware read, whatever the UART's
// timing; noise is rejected, silence reported.

import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, JUNE, firstMismatch, isSubsequence, logEntries, simulate } from './support/sim';
import { METER_KINDS } from '../simulator/meters/index';
import { parseFault } from '../simulator/faults';
import { FileKeyValue } from '../hosts/sim/kv';
import { DEFAULT_SETTINGS, saveSettings } from '../src/config/settings';
import { PROTOCOL_DEFAULTS } from '../src/meter/settings';

// Six hours are thousands of telegrams of each meter (one every 1 to 10 s); a day's quarter-hours and its
// midnight are the TAF tests' (tests/taf-sim.test.ts).
describe('six simulated hours', () => {
  for (const meter of METER_KINDS) {
    it(`${meter}: every telegram the meter sent is read, with the values it sent`, async () => {
      const run = await simulate({ meter, days: 6 / 24 });
      expect(run.samples.length).toBeGreaterThan(2000);
      expect(run.report.telegrams).toMatchObject({ sent: run.samples.length, seen: run.samples.length, decoded: run.samples.length, rejected: {}, lost: 0 });
      expect(firstMismatch(run)).toBe(-1);
      expect(run.report.boots).toEqual([{ at: run.report.from, cause: 'power-on' }]);
      expect(run.report.crashes).toBe(0);
    }, 60_000);
  }
});

describe('the UART', () => {
  it('neither its chunking nor the baud rate changes what is read', async () => {
    const base = await simulate({ meter: 'sml', days: 1 / 24 });
    // (A 316-byte SML file every second needs more than 3,160 baud.)
    for (const serial of [{ fifo: 1 }, { fifo: 7 }, { fifo: 64 }, { baud: 115200 }, { baud: 4800, fifo: 17 }]) {
      const run = await simulate({ meter: 'sml', days: 1 / 24, serial });
      expect(run.lines, JSON.stringify(serial)).toEqual(base.lines);
    }
  });

  it('reads nothing with the wrong line settings, and flags the line', async () => {
    // A device set up for 9600 baud on a DSMR meter that sends at 115200.
    const state = mkdtempSync(join(tmpdir(), 'smgw-state-'));
    const kv = new FileKeyValue(join(state, 'nvs.json'));
    saveSettings(kv, { ...DEFAULT_SETTINGS, meter: { ...PROTOCOL_DEFAULTS.dsmr, line: { ...PROTOCOL_DEFAULTS.dsmr.line, baud: 9600 } }, zone: 'Europe/Amsterdam' });
    const run = await simulate({ meter: 'dsmr', days: 1 / 24, state });
    expect(run.report.telegrams.decoded).toBe(0);
    expect(run.report.line.flaggedChunks).toBeGreaterThan(1000);
    expect(run.lines).toEqual([]);
  });
});

describe('faults', () => {
  it('noise on a CRC-protected line: corrupted telegrams are rejected and counted, never read', async () => {
    const run = await simulate({ meter: 'sml', days: 6 / 24, faults: ['noise:2e-5'] });
    const t = run.report.telegrams;
    expect(run.report.line.bitErrors).toBeGreaterThan(100);
    expect(Object.values(t.rejected).reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
    expect(t.decoded).toBeLessThan(t.sent);
    expect(isSubsequence(run)).toBe(true);
  }, 60_000);

  it('noise on IEC 62056-21 (no checksum): the UART parity flags it, and flagged telegrams are rejected', async () => {
    const run = await simulate({ meter: 'd0', days: 6 / 24, faults: ['noise:1e-5'] });
    expect(run.report.line.flaggedChunks).toBeGreaterThan(50);
    expect(run.report.telegrams.rejected.framing).toBeGreaterThan(50);
    expect(isSubsequence(run)).toBe(true);
  }, 60_000);

  it('noise on wired M-Bus and on HDLC: checksums and FCS reject it', async () => {
    for (const meter of ['dlms-mbus', 'dlms-hdlc', 'mbus-amis'] as const) {
      const run = await simulate({ meter, days: 6 / 24, faults: ['noise:2e-5'] });
      expect(Object.keys(run.report.telegrams.rejected).length, meter).toBeGreaterThan(0);
      expect(isSubsequence(run), meter).toBe(true);
    }
  }, 60_000);

  it('a silent meter is reported as silent, for as long as it was', async () => {
    const run = await simulate({ meter: 'sml', days: 6 / 24, faults: ['meter-silent:2025-06-02T02:00:00Z/2025-06-02T03:00:00Z'] });
    expect(run.report.silences).toHaveLength(1);
    const s = run.report.silences[0];
    expect(Date.parse(s.from)).toBeGreaterThanOrEqual(Date.UTC(2025, 5, 2, 1, 59));
    expect(Date.parse(s.from)).toBeLessThanOrEqual(Date.UTC(2025, 5, 2, 2, 0));
    expect(Date.parse(s.to!)).toBeGreaterThanOrEqual(Date.UTC(2025, 5, 2, 3, 0));
    expect(Date.parse(s.to!)).toBeLessThanOrEqual(Date.UTC(2025, 5, 2, 3, 0, 2));
    expect(run.report.telegrams.sent).toBe(5 * 3600);
    expect(firstMismatch(run)).toBe(-1);
  });

  it('power cuts: the device boots again and reads on', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 1, faults: ['power-cut:every=5h'] });
    const cuts = run.report.boots.filter((b) => b.cause === 'power-cut');
    expect(cuts.length).toBeGreaterThanOrEqual(4);
    expect(run.report.crashes).toBe(0);
    expect(isSubsequence(run)).toBe(true);
    // Only the telegrams sent while the device was dark are missing.
    expect(run.report.telegrams.decoded).toBeGreaterThan(run.samples.length - cuts.length * 3);
  }, 60_000);

  it('a replayed DLMS telegram (an old frame counter) is refused and reported as a security event', async () => {
    const lines: string[] = [];
    const run = await simulate({ meter: 'dlms-mbus', days: 1 / 24, faults: ['replay:2025-06-02T00:30:02Z'], log: (l) => lines.push(l) });
    expect(run.report.telegrams).toMatchObject({ sent: 720, seen: 721, decoded: 720, rejected: { replay: 1 } });
    const security = lines.filter((l) => l.startsWith('security:'));
    expect(security).toHaveLength(1);
    expect(security[0]).toMatch(/^security: frame counter \d+ of system title KFM6750000881 is not above the last one seen \(\d+\): a replayed telegram$/);
    expect(firstMismatch(run)).toBe(-1);
  });

  it('parses every fault form', () => {
    const start = Date.UTC(2025, 0, 1);
    expect(parseFault('outage:DAY2/DAY7', start)).toEqual({ kind: 'outage', from: start + 2 * DAY, to: start + 7 * DAY });
    expect(parseFault('power-cut:every=13h', start)).toEqual({ kind: 'power-cut', every: 13 * HOUR, midWrite: false });
    expect(parseFault('power-cut:every=90m,mid-write', start)).toEqual({ kind: 'power-cut', every: 90 * 60000, midWrite: true });
    expect(parseFault('clock-jump:+3600@2025-03-30T01:30:00Z', start)).toEqual({ kind: 'clock-jump', by: 3600000, at: Date.UTC(2025, 2, 30, 1, 30) });
    expect(parseFault('noise:1e-5', start)).toEqual({ kind: 'noise', rate: 1e-5 });
    expect(parseFault('sntp-skew:-90@DAY1/DAY2', start)).toEqual({ kind: 'sntp-skew', by: -90000, from: start + DAY, to: start + 2 * DAY });
    expect(parseFault('replay:2025-01-01T00:30:00Z', start)).toEqual({ kind: 'replay', at: Date.UTC(2025, 0, 1, 0, 30) });
    expect(() => parseFault('outage:DAY7/DAY2', start)).toThrow(/after/);
    expect(() => parseFault('flood:1', start)).toThrow(/unknown fault/);
  });
});

describe('state between runs', () => {
  it('a second run continues where the first stopped, as after a power cycle', async () => {
    const state = mkdtempSync(join(tmpdir(), 'smgw-state-'));
    const first = await simulate({ meter: 'dsmr', days: 1 / 24, state });
    const second = await simulate({ meter: 'dsmr', days: 1 / 24, state, from: undefined });
    expect(second.report.from).toBe(first.report.until);
    const last = first.readings[first.readings.length - 1].values['1-0:1.8.2'].value!;
    const next = second.readings[0].values['1-0:1.8.2'].value!;
    expect(next).toBeGreaterThanOrEqual(last);
    expect(next - last).toBeLessThan(20);
    expect(firstMismatch(second)).toBe(-1);
    expect(JSON.parse(readFileSync(join(state, 'sim.json'), 'utf8')).until).toBe(Date.parse(second.report.until));
  });

  it('the settings file, which holds the keys and passwords, is readable by its owner only; an older, readable one is tightened', async () => {
    const state = mkdtempSync(join(tmpdir(), 'smgw-state-'));
    const file = join(state, 'nvs.json');
    const mode = () => statSync(file).mode & 0o777;
    // Created by a run: the provisioned device's meter key and Wi-Fi password are in it.
    await simulate({ meter: 'dlms-mbus', days: 1 / 24, state });
    expect(new FileKeyValue(file).getBytes('meterKey')).toHaveLength(16);
    expect(mode()).toBe(0o600);
    // A file an earlier version wrote with mode 644: opening it tightens it before anything else.
    chmodSync(file, 0o644);
    const kv = new FileKeyValue(file);
    expect(mode()).toBe(0o600);
    // A temporary file a cut left behind, readable by all, does not make the next save readable.
    writeFileSync(file + '.tmp', '{}', { mode: 0o644 });
    chmodSync(file + '.tmp', 0o644);
    kv.set('wifiPassword', 'another password');
    expect(mode()).toBe(0o600);
    expect(new FileKeyValue(file).get('wifiPassword')).toBe('another password');
  });
});

describe('the XS engine', () => {
  it('runs the same three hours across local midnight to the same readings, and counts its computrons', async () => {
    // 20:00 to 23:00 UTC: quarter-hours and the daily reading at Vienna's midnight (22:00 UTC in summer).
    const span = { meter: 'dlms-mbus', from: JUNE + 20 * HOUR, days: 3 / 24 } as const;
    const node = await simulate(span);
    const { xsEngine } = await import('../hosts/sim/xs-engine');
    const xs = await simulate({ ...span, engine: xsEngine(), engineName: 'xs' });
    expect(xs.lines).toEqual(node.lines);
    // The same reading log, byte for byte.
    expect(xs.sim.world.flash.image).toEqual(node.sim.world.flash.image);
    // 12 quarter-hours and the daily reading, and the events (the boot, the firmware, the time): their chain
    // hashes computed in XS through the crypto bridge are the same bytes as Node's.
    expect(logEntries(xs).filter((e) => e.type === 'reading').map((e) => (e as { kind: string }).kind)).toEqual([...Array(9).fill('taf7'), 'daily', ...Array(3).fill('taf7')]);
    expect(logEntries(xs)).toHaveLength(13 + 3);
    expect(logEntries(xs).filter((e) => e.type === 'event')).toHaveLength(3);
    expect(xs.report.computrons!.total).toBeGreaterThan(0);
    expect(xs.report.computrons!.byEvent['serial.open'].events).toBeGreaterThan(xs.samples.length);
  }, 120_000);

  it('runs the other meters to the same readings (20 minutes each, across a quarter-hour)', async () => {
    const { xsEngine } = await import('../hosts/sim/xs-engine');
    for (const meter of ['sml', 'd0', 'dsmr', 'dlms-hdlc', 'mbus-amis'] as const) {
      const node = await simulate({ meter, days: 1 / 72 });
      const xs = await simulate({ meter, days: 1 / 72, engine: xsEngine(), engineName: 'xs' });
      expect(xs.lines, meter).toEqual(node.lines);
    }
  }, 120_000);

  it('reboots XS after a power cut and reads on', async () => {
    const { xsEngine } = await import('../hosts/sim/xs-engine');
    const xs = await simulate({ meter: 'dlms-mbus', days: 3 / 24, faults: ['power-cut:every=1h,mid-write'], engine: xsEngine(), engineName: 'xs' });
    expect(xs.report.boots.filter((b) => b.cause === 'power-cut').length).toBeGreaterThanOrEqual(2);
    expect(xs.report.crashes).toBe(0);
    expect(isSubsequence(xs)).toBe(true);
  }, 120_000);
});
