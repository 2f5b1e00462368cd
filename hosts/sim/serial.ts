// The serial port on the desktop: the device's UART onto a line of the
// simulated world (simulator/world/serial-line.ts, which carries the bytes at
// the line's baud rate, through its noise, to and from the meter). This side
// only adapts it to src/ports/serial.ts.

import type { Connector, LineSettings, ReceiveHandler, SerialPort } from '../../src/ports/serial';

/** A line the device's UART can be attached to, as this port uses it. */
export interface SerialWire {
  readonly connector: Connector;
  /** Bytes from the meter reach `handler` in chunks, as the UART received them with `settings`. */
  attach(settings: LineSettings, handler: (chunk: Uint8Array, lineError: boolean) => void | Promise<void>): void;
  detach(): void;
  /** The device writes `bytes` now with its UART's `settings`. */
  fromDevice(bytes: Uint8Array, settings: LineSettings): void;
}

/** The firmware's serial port for one boot of the simulated device. */
export class SimSerial implements SerialPort {
  private readonly lines: SerialWire[];
  private attached: SerialWire | null = null;
  private settings: LineSettings | null = null;
  /** Wraps every delivery into the firmware: the device's power state, the XS engine. */
  private readonly run: (callback: () => void) => void | Promise<void>;

  constructor(lines: SerialWire[], run: (callback: () => void) => void | Promise<void> = (c) => c()) {
    this.lines = lines;
    this.run = run;
  }

  open(connector: Connector, settings: LineSettings, onBytes: ReceiveHandler): void {
    this.close();
    const line = this.lines.find((l) => l.connector === connector);
    if (!line) return; // nothing wired to that connector: silence
    line.attach(settings, (chunk, lineError) => this.run(() => onBytes(chunk, lineError)));
    this.attached = line;
    this.settings = settings;
  }

  write(bytes: Uint8Array): void {
    if (this.attached && this.settings) this.attached.fromDevice(bytes, this.settings);
  }

  close(): void {
    this.attached?.detach();
    this.attached = null;
    this.settings = null;
  }
}
