// The M-Bus link layer between a Siemens AMIS TD-3511 and the gateway: the
// meter searches with SND_NKE and waits for an E5 after each SND_UD, repeating
// a frame that gets none. The gateway confirms what passed its checks and
// nothing else, decodes a repeat once, and writes nothing on a DLMS line.
// Everything runs on the simulated clock: the virtual meter and the reader on
// one simulated serial line (hosts/sim/serial.ts), or the decoder on the
// public captures.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../src/codec/bytes';
import { MeterDecoder } from '../src/meter/decoder';
import { MeterReader } from '../src/meter/reader';
import type { Reading, TelegramProtocol } from '../src/meter/reading';
import type { DecodeError } from '../src/meter/errors';
import { PROTOCOL_DEFAULTS, type MeterSettings } from '../src/meter/settings';
import type { LineSettings } from '../src/ports/serial';
import { SimSerial } from '../hosts/sim/serial';
import { SerialLine } from '../simulator/world/serial-line';
import { SimClock } from '../hosts/sim/clock';
import { nodeCrypto } from '../hosts/node/crypto';
import { Scheduler } from '../simulator/world/scheduler';
import { derive } from '../simulator/world/random';
import { HouseholdModel } from '../simulator/household';
import { AmisMbusMeter } from '../simulator/meters/mbus-meters';
import { KaifaMbusMeter, WienerNetzeHdlcMeter } from '../simulator/meters/dlms-meters';
import { DEMO_KEY } from '../simulator/meters/index';
import type { MeterSample, VirtualMeter } from '../simulator/meters/meter';
import { RETRIES, SND_NKE_240 } from '../simulator/meters/mbus-master';

const START = Date.UTC(2025, 5, 2);
const KEY = fromHex(DEMO_KEY)!;

interface Vector {
  id: string;
  hex: string;
  key: string;
}
const VECTORS = JSON.parse(readFileSync(new URL('./vectors/mbus-oms.json', import.meta.url), 'utf8')) as Vector[];
const capture = (id: string) => VECTORS.find((v) => v.id === id)!;

/** A cable that flips a byte of chosen transmissions of the meter, and loses chosen writes of the device. */
class FaultyCable extends SerialLine {
  flip = new Set<number>();
  lose = new Set<number>();
  private transmissions = 0;
  private writes = 0;

  transmit(bytes: Uint8Array, at: number): number {
    const n = this.transmissions++;
    if (!this.flip.has(n)) return super.transmit(bytes, at);
    const flipped = bytes.slice();
    flipped[40] ^= 0x04; // inside the ciphertext: only the checksum can tell
    return super.transmit(flipped, at);
  }

  fromDevice(bytes: Uint8Array, device: LineSettings): void {
    if (this.lose.has(this.writes++)) return;
    super.fromDevice(bytes, device);
  }
}

/** A virtual meter and the gateway's reader on one simulated line, a second per tick, for `seconds`. */
async function wire(meter: VirtualMeter, settings: MeterSettings, seconds: number, setup: (line: FaultyCable) => void = () => undefined) {
  const scheduler = new Scheduler(START, 'max');
  const line = new FaultyCable(scheduler, meter.connector, meter.line, derive(1, 'line'));
  setup(line);
  meter.connect(line, scheduler);
  const reader = new MeterReader(new SimSerial([line]), new SimClock(scheduler), nodeCrypto);
  const readings: Reading[] = [];
  const rejected: DecodeError[] = [];
  reader.onReading((r) => readings.push(r));
  reader.onRejected((e) => rejected.push(e));
  reader.start({ ...settings, connector: meter.connector, line: meter.line }, 'Europe/Vienna', meter instanceof AmisMbusMeter || meter instanceof KaifaMbusMeter || meter instanceof WienerNetzeHdlcMeter ? KEY : null, null);
  const samples: MeterSample[] = [];
  for (let t = START; t < START + seconds * 1000; t += meter.cadence) {
    const at = t;
    scheduler.at(at, () => {
      const telegram = meter.send(at, line);
      if (telegram) samples.push(telegram.truth);
    });
  }
  await scheduler.run(START + seconds * 1000 + 1000);
  reader.stop();
  return { line, reader, readings, rejected, samples };
}

const amis = () => new AmisMbusMeter(new HouseholdModel(7), null, START, KEY);
const energy = (r: Reading | MeterSample) => (r.values['1-0:1.8.0'] as { value: number }).value;

describe('the gateway and the virtual TD-3511 on one line', () => {
  it('with the E5 the meter never repeats, and every frame is read once', async () => {
    const meter = amis();
    const { line, reader, readings, samples } = await wire(meter, PROTOCOL_DEFAULTS.dlms, 600);
    const link = meter.link!.stats;
    // The search at the first second is answered; then a SND_UD a second, each acknowledged.
    expect(link).toEqual({ searches: 1, acknowledged: samples.length + 1, repeats: 0, abandoned: 0 });
    expect(samples.length).toBe(599);
    expect(reader.stats.acknowledged).toBe(samples.length + 1);
    expect(line.bytesWritten).toBe(samples.length + 1);
    expect(readings.map(energy)).toEqual(samples.map(energy));
    expect(reader.stats.rejected).toEqual({});
  });

  it('a corrupted frame gets no E5; the meter repeats it and the repeat is read once', async () => {
    const meter = amis();
    // Transmission 0 is the search; 5 is the fifth SND_UD, 6 its repeat.
    const { line, reader, readings, rejected, samples } = await wire(meter, PROTOCOL_DEFAULTS.dlms, 60, (l) => l.flip.add(5));
    expect(rejected.map((e) => e.reason)).toEqual(['crc']);
    expect(meter.link!.stats).toEqual({ searches: 1, acknowledged: samples.length + 1, repeats: 1, abandoned: 0 });
    // One E5 per frame that passed its checks: none for the corrupted one.
    expect(reader.stats.acknowledged).toBe(samples.length + 1);
    expect(line.bytesWritten).toBe(samples.length + 1);
    expect(readings).toHaveLength(samples.length);
    expect(readings.map(energy)).toEqual(samples.map(energy));
    expect(readings.map((r) => r.time)).toEqual(samples.map((s) => s.time));
  });

  it('an E5 lost on the way back: the meter repeats, the gateway confirms again and reads the frame once', async () => {
    const meter = amis();
    // Write 0 answers the search; write 3 the third SND_UD.
    const { reader, readings, rejected, samples } = await wire(meter, PROTOCOL_DEFAULTS.dlms, 60, (l) => l.lose.add(3));
    expect(rejected).toEqual([]);
    expect(meter.link!.stats).toMatchObject({ repeats: 1, abandoned: 0 });
    expect(reader.stats.acknowledged).toBe(samples.length + 2);
    expect(readings.map((r) => r.time)).toEqual(samples.map((s) => s.time));
  });

  it(`after ${RETRIES} unanswered repeats the meter searches again, and reads on once it is answered`, async () => {
    const meter = amis();
    // SND_UD 10 and both its repeats are corrupted: the meter gives up and searches (transmission 13), which is answered.
    const { readings, rejected, samples } = await wire(meter, PROTOCOL_DEFAULTS.dlms, 60, (l) => [10, 11, 12].forEach((n) => l.flip.add(n)));
    expect(rejected.map((e) => e.reason)).toEqual(['crc', 'crc', 'crc']);
    expect(meter.link!.stats).toEqual({ searches: 2, acknowledged: samples.length + 1, repeats: 2, abandoned: 1 });
    // Only the abandoned frame is missing.
    expect(readings.map((r) => r.time)).toEqual(samples.filter((_, i) => i !== 9).map((s) => s.time));
  });

  it('a gateway that only listens gets a SND_NKE a minute and no readings', async () => {
    const scheduler = new Scheduler(START, 'max');
    const meter = amis();
    const line = new SerialLine(scheduler, meter.connector, meter.line, derive(1, 'line'));
    meter.connect(line, scheduler);
    const heard: number[] = [];
    line.attach(meter.line, (chunk) => void heard.push(...chunk));
    let sent = 0;
    for (let t = START; t < START + 300_000; t += 1000) scheduler.at(t, () => void (meter.send(t, line) && sent++));
    await scheduler.run(START + 301_000);
    expect(sent).toBe(0);
    expect(meter.link!.stats.searches).toBe(5);
    expect(heard).toEqual(Array.from({ length: 5 }, () => [...SND_NKE_240]).flat());
  });

  it('DLMS push meters (M-Bus and HDLC) get no byte written', async () => {
    for (const meter of [new KaifaMbusMeter(new HouseholdModel(7), null, START, KEY), new WienerNetzeHdlcMeter(new HouseholdModel(7), null, START, KEY)]) {
      const { line, reader, readings, samples } = await wire(meter, PROTOCOL_DEFAULTS.dlms, 120);
      expect(readings.length, meter.kind).toBe(samples.length);
      expect(samples.length, meter.kind).toBeGreaterThan(10);
      expect(line.bytesWritten, meter.kind).toBe(0);
      expect(reader.stats.acknowledged, meter.kind).toBe(0);
    }
  });
});

/** Decodes `chunks` as the reader would, counting confirmations. */
function confirmations(protocol: TelegramProtocol, key: string, chunks: { bytes: Uint8Array; lineError?: boolean }[]) {
  let confirmed = 0;
  const readings: Reading[] = [];
  const rejected: string[] = [];
  const d = new MeterDecoder(
    { protocol, key: fromHex(key), crypto: nodeCrypto, zone: 'Europe/Vienna' },
    { reading: (r) => readings.push(r), rejected: (e) => rejected.push(e.reason), confirm: () => confirmed++ },
  );
  for (const c of chunks) d.push(c.bytes, c.lineError ?? false);
  d.end();
  d.close();
  return { confirmed, readings, rejected };
}

describe('confirming the public AMIS captures', () => {
  const good = capture('at-netzooe-siemens-td3511-automatica');
  const frame = fromHex(good.hex)!;
  const flipped = fromHex(capture('at-netzooe-siemens-td3511-automatica~flip').hex)!;
  const two = fromHex(capture('at-netzooe-siemens-td3511-vzlogger').hex)!;

  for (const protocol of ['mbus', 'dlms'] as const) {
    it(`${protocol}: SND_NKE and each SND_UD that verifies are confirmed; a corrupted one is not`, () => {
      expect(confirmations(protocol, good.key, [{ bytes: SND_NKE_240 }, { bytes: frame }])).toMatchObject({ confirmed: 2, rejected: [] });
      const bad = confirmations(protocol, good.key, [{ bytes: SND_NKE_240 }, { bytes: flipped }]);
      expect(bad).toMatchObject({ confirmed: 1, rejected: ['crc'], readings: [] });
      // A wrong key is no reason for the meter to repeat: the frame arrived intact.
      const zeros = '00'.repeat(16);
      expect(confirmations(protocol, zeros, [{ bytes: frame }])).toMatchObject({ confirmed: 1, rejected: ['wrong-key'] });
      // The vzlogger capture: two frames, FCB 1 then 0 (73, 53).
      expect(confirmations(protocol, capture('at-netzooe-siemens-td3511-vzlogger').key, [{ bytes: two }]).confirmed).toBe(2);
    });

    it(`${protocol}: a frame the UART flagged is neither confirmed nor remembered`, () => {
      const r = confirmations(protocol, good.key, [{ bytes: frame, lineError: true }, { bytes: frame }]);
      expect(r).toMatchObject({ confirmed: 1, rejected: ['framing'] });
      expect(r.readings).toHaveLength(1);
      expect(confirmations(protocol, good.key, [{ bytes: SND_NKE_240, lineError: true }]).confirmed).toBe(0);
    });

    it(`${protocol}: a repeat (same FCB, same bytes) is confirmed again and read once; after SND_NKE it is new`, () => {
      const r = confirmations(protocol, good.key, [{ bytes: frame }, { bytes: frame }]);
      expect(r.confirmed).toBe(2);
      expect(r.readings).toHaveLength(1);
      const reset = confirmations(protocol, good.key, [{ bytes: frame }, { bytes: SND_NKE_240 }, { bytes: frame }]);
      expect(reset.confirmed).toBe(3);
      expect(reset.readings).toHaveLength(2);
      // Without a listener (smgw decode of a capture) no E5 goes out, so nothing can be the answer to a missed one.
      const offline: Reading[] = [];
      const d = new MeterDecoder({ protocol, key: fromHex(good.key), crypto: nodeCrypto, zone: 'Europe/Vienna' }, { reading: (x) => offline.push(x), rejected: () => undefined });
      d.push(Uint8Array.from([...frame, ...frame]));
      d.close();
      expect(offline).toHaveLength(2);
    });

    it(`${protocol}: the same confirmations byte by byte as in one chunk`, () => {
      const stream = Uint8Array.from([...SND_NKE_240, ...frame, ...flipped, ...frame, 0x10, ...two]);
      const whole = confirmations(protocol, good.key, [{ bytes: stream }]);
      const bytewise = confirmations(protocol, good.key, Array.from(stream, (b) => ({ bytes: Uint8Array.of(b) })));
      expect(bytewise.confirmed).toBe(whole.confirmed);
      expect(bytewise.rejected).toEqual(whole.rejected);
      expect(whole.confirmed).toBe(5);
    });
  }
});
