// smgw meter: a virtual meter written to a serial device (here a plain file
// standing for one), and its meter log, which must say what the bytes carry.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meterCommand } from '../cli/meter';
import { decodeSml } from '../src/meter/sml/decode';

describe('smgw meter', () => {
  it('writes the SML meter\'s telegrams to the device and logs exactly what they carry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-meter-'));
    const device = join(dir, 'tty');
    const log = join(dir, 'meter.jsonl');
    expect(await meterCommand(['--meter', 'sml', '--device', device, '--meter-log', log, '--count', '2'])).toBe(0);
    const bytes = new Uint8Array(readFileSync(device));
    const truth = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(truth.length).toBe(2);
    // Two SML files back to back: each begins with the escape and version sequence.
    const start = [0x1b, 0x1b, 0x1b, 0x1b, 0x01, 0x01, 0x01, 0x01];
    const second = bytes.findIndex((_b, i) => i > 0 && start.every((s, k) => bytes[i + k] === s));
    expect(second).toBeGreaterThan(0);
    for (const [i, frame] of [bytes.subarray(0, second), bytes.subarray(second)].entries()) {
      const reading = decodeSml(frame);
      for (const [obis, v] of Object.entries(truth[i].values as { [k: string]: { value: number; unit: string } })) {
        expect(reading.values[obis], obis).toEqual(v);
      }
    }
  });

  it('refuses a device it cannot open, in one line', async () => {
    await expect(meterCommand(['--device', '/nonexistent/dir/tty'])).rejects.toThrow(/cannot open \/nonexistent\/dir\/tty/);
  });
});
