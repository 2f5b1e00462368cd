// The meter reader when its serial port will not open (a UART taken, on lin a
// pty that is not there yet): it says why, tries again, and reads once it opens.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { MeterReader } from '../src/meter/reader';
import { SimClock } from '../hosts/sim/clock';
import { nodeCrypto } from '../hosts/node/crypto';
import { Scheduler } from '../simulator/world/scheduler';
import type { ReceiveHandler, SerialPort } from '../src/ports/serial';
import { PROTOCOL_DEFAULTS } from '../src/meter/settings';

class MissingUntilPlugged implements SerialPort {
  plugged = false;
  onBytes: ReceiveHandler | null = null;
  open(_c: unknown, _s: unknown, onBytes: ReceiveHandler): void {
    if (!this.plugged) throw new Error('No such file or directory');
    this.onBytes = onBytes;
  }
  write(): void {}
  close(): void {
    this.onBytes = null;
  }
}

describe('the meter reader and a port that will not open', () => {
  it('says so in lastError, retries, and decodes once the port opens', async () => {
    const scheduler = new Scheduler(Date.UTC(2026, 0, 1), 'max');
    const clock = new SimClock(scheduler);
    const port = new MissingUntilPlugged();
    const reader = new MeterReader(port, clock, nodeCrypto);
    const readings: unknown[] = [];
    reader.onReading((r) => readings.push(r));
    const d = PROTOCOL_DEFAULTS.dsmr;
    expect(() => reader.start(d, 'Europe/Amsterdam', null, null)).not.toThrow();
    expect(reader.stats.lastError).toBe(`cannot open the ${d.connector} port: No such file or directory`);
    port.plugged = true;
    await scheduler.run(Date.UTC(2026, 0, 1) + 11_000);
    expect(port.onBytes).not.toBeNull();
    expect(reader.stats.lastError).toBeNull();
    const vectors = JSON.parse(readFileSync(new URL('../../shared/vectors/public.json', import.meta.url), 'utf8'));
    const dsmr = (vectors as { protocol: string; key?: string; hex: string; expectError: unknown }[]).find((v) => v.protocol === 'dsmr' && !v.key && !v.expectError)!;
    port.onBytes!(Uint8Array.from(Buffer.from(dsmr.hex, 'hex')), false);
    expect(readings.length).toBe(1);
  });
});
