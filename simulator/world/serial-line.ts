// The serial line in the simulated world: the wire from a virtual meter to a
// virtual UART (hosts/sim/serial.ts is the device's port onto it).
// The meter transmits whole telegrams; the UART receives them byte by byte
// at the line's baud rate and hands them to the firmware in chunks, as the
// ESP32's UART driver does (when its 120-byte FIFO threshold is reached, or
// after the line has been idle for four character times). Bit errors can be
// injected; a parity or framing error is reported with its chunk, as the
// device reports what the UART flags. A UART opened with other settings than
// the meter's receives what a real one would: garbage, mostly flagged. What
// the device writes travels back to the meter the same way (half duplex, at
// the device's settings, through the same noise): an M-Bus meter waits for
// the gateway's E5.

import type { Scheduler } from './scheduler';
import type { Random } from './random';
import type { Connector, LineSettings } from '../../src/ports/serial';
import type { SerialWire } from '../../hosts/sim/serial';

/** The ESP32 UART driver's receive FIFO threshold: it hands over bytes in chunks of at most this many. */
const FIFO_THRESHOLD = 120;
const IDLE_CHARACTERS = 4;

function frameBits(s: LineSettings): number {
  return 1 + s.dataBits + (s.parity === 'none' ? 0 : 1) + s.stopBits;
}

function parityBit(byte: number, dataBits: number, parity: 'even' | 'odd'): number {
  let ones = 0;
  for (let b = 0; b < dataBits; b++) ones += (byte >> b) & 1;
  return parity === 'even' ? ones & 1 : (ones & 1) ^ 1;
}

interface Receiver {
  settings: LineSettings;
  handler: (chunk: Uint8Array, lineError: boolean) => void | Promise<void>;
}

/** The wire from a meter to one of the device's connectors. */
export class SerialLine implements SerialWire {
  readonly connector: Connector;
  readonly meter: LineSettings;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  /** Probability of a bit error on the line. */
  noiseRate = 0;
  private bitsToError = Infinity;
  private receiver: Receiver | null = null;
  /** The meter's end, for meters that listen (M-Bus masters waiting for E5). */
  private meterReceiver: ((bytes: Uint8Array, lineError: boolean) => void) | null = null;
  /** When the line is free again (telegrams are sent one after the other). */
  private busyUntil = 0;
  /** Bytes received and flagged, for the report. */
  bytesSent = 0;
  /** Bytes the device wrote towards the meter. */
  bytesWritten = 0;
  bitErrors = 0;

  private readonly fifo: number;

  constructor(scheduler: Scheduler, connector: Connector, meter: LineSettings, random: Random, fifo = FIFO_THRESHOLD) {
    this.scheduler = scheduler;
    this.connector = connector;
    this.meter = meter;
    this.random = random;
    this.fifo = fifo;
  }

  setNoise(rate: number): void {
    this.noiseRate = rate;
    this.bitsToError = this.nextGap();
  }

  private nextGap(): number {
    if (this.noiseRate <= 0) return Infinity;
    return 1 + Math.floor(Math.log(Math.max(this.random(), 1e-300)) / Math.log(1 - this.noiseRate));
  }

  attach(settings: LineSettings, handler: Receiver['handler']): void {
    this.receiver = { settings, handler };
  }

  detach(): void {
    this.receiver = null;
  }

  /** The meter listens to what the device writes (bytes delivered when their last character has arrived). */
  listen(handler: (bytes: Uint8Array, lineError: boolean) => void): void {
    this.meterReceiver = handler;
  }

  /** The device writes `bytes` now with its UART's settings; they reach the meter if it listens. */
  fromDevice(bytes: Uint8Array, device: LineSettings): void {
    this.bytesWritten += bytes.length;
    const meter = this.meterReceiver;
    if (!meter || bytes.length === 0) return;
    const characterMs = (frameBits(device) * 1000) / device.baud;
    const sent = bytes.slice();
    this.scheduler.at(this.scheduler.now + bytes.length * characterMs, () => {
      const r = this.corrupt(sent, device, this.meter);
      meter(r.bytes, r.lineError);
    });
  }

  /** The meter sends `bytes` starting at virtual time `at` (or when the line is free). Returns when the last byte ends. */
  transmit(bytes: Uint8Array, at: number): number {
    const start = Math.max(at, this.busyUntil);
    const characterMs = (frameBits(this.meter) * 1000) / this.meter.baud;
    this.busyUntil = start + bytes.length * characterMs;
    this.bytesSent += bytes.length;
    for (let from = 0; from < bytes.length; from += this.fifo) {
      const to = Math.min(bytes.length, from + this.fifo);
      const last = to === bytes.length;
      // A full FIFO interrupts at its last byte; the rest waits for the idle timeout.
      const due = start + to * characterMs + (last && to - from < this.fifo ? IDLE_CHARACTERS * characterMs : 0);
      const chunk = bytes.subarray(from, to);
      this.scheduler.at(due, () => this.deliver(chunk));
    }
    return this.busyUntil;
  }

  private deliver(sent: Uint8Array): void | Promise<void> {
    const r = this.receiver;
    if (!r) return; // nobody listening: the bytes are gone
    const got = this.corrupt(sent, this.meter, r.settings);
    return r.handler(got.bytes, got.lineError);
  }

  /** What a UART with settings `s` receives of `sent`, transmitted with settings `m`, through the line's noise. */
  private corrupt(sent: Uint8Array, m: LineSettings, s: LineSettings): { bytes: Uint8Array; lineError: boolean } {
    if (s.baud !== m.baud || s.inverted !== m.inverted) return { bytes: this.garbage(sent.length), lineError: this.random() < 0.95 };
    const sameFormat = s.dataBits === m.dataBits && s.parity === m.parity;
    const bits = frameBits(m);
    // No bit error in this chunk and the same format: the bytes arrive as sent.
    if (sameFormat && this.bitsToError > sent.length * bits) {
      this.bitsToError -= sent.length * bits;
      return { bytes: sent.slice(), lineError: false };
    }
    const out = new Uint8Array(sent.length);
    let lineError = false;
    const parityBits = m.parity === 'none' ? 0 : 1;
    for (let i = 0; i < sent.length; i++) {
      let byte = sent[i];
      let parity = parityBits ? parityBit(byte, m.dataBits, m.parity as 'even' | 'odd') : 0;
      let framing = false;
      // Bit errors: positions 0 start, 1..dataBits data, then parity, then stop.
      this.bitsToError -= bits;
      while (this.bitsToError <= 0) {
        const position = bits + this.bitsToError - 1;
        this.bitErrors++;
        if (position === 0 || position > m.dataBits + parityBits) framing = true;
        else if (position <= m.dataBits) byte ^= 1 << (position - 1);
        else parity ^= 1;
        this.bitsToError += this.nextGap();
      }
      // The UART takes the bits as they fall: with another format, the parity bit becomes data or the reverse.
      const received = parityBits ? byte | (parity << m.dataBits) : byte;
      const value = received & ((1 << s.dataBits) - 1);
      if (s.parity !== 'none' && ((received >> s.dataBits) & 1) !== parityBit(value, s.dataBits, s.parity)) lineError = true;
      if (framing) lineError = true;
      out[i] = value;
    }
    return { bytes: out, lineError };
  }

  /** Another baud rate or polarity: the UART samples noise. */
  private garbage(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.random() * 256);
    return out;
  }
}
