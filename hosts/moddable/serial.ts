// Serial port on Moddable: ECMA-419 embedded:io/serial. What opens the UART
// differs by platform only in the options (GPIO pins on the ESP32, a device
// path on lin) and in how the line format is set: Moddable's serial opens every
// UART at 8N1, so each platform gives a UartLine (esp32/line.ts: the native
// uart-line module; lin/line.ts: nothing to set on a pty).

import Serial from 'embedded:io/serial';
import type { Connector, LineSettings, ReceiveHandler, SerialPort } from '../../src/ports/serial';

/** The options embedded:io/serial opens one meter connector with, beside baud and callbacks. */
export type UartOptions = { port: number; receive: number; transmit: number } | { device: string };

/** Line format and line errors of an open UART, on what the platform has. */
export interface UartLine {
  /** Sets data bits, parity, stop bits and RX inversion on the UART just opened with these options. */
  set(options: UartOptions, settings: LineSettings): void;
  /** Whether a parity or framing error happened since the last call. */
  takeErrors(options: UartOptions): boolean;
}

export class ModdableSerial implements SerialPort {
  private readonly wiring: Record<Connector, UartOptions>;
  private readonly line: UartLine;
  private uart: Serial | null = null;

  constructor(wiring: Record<Connector, UartOptions>, line: UartLine) {
    this.wiring = wiring;
    this.line = line;
  }

  open(connector: Connector, settings: LineSettings, onBytes: ReceiveHandler): void {
    this.close();
    const options = this.wiring[connector];
    const line = this.line;
    this.uart = new Serial({
      ...options,
      baud: settings.baud,
      format: 'buffer',
      onReadable(this: Serial) {
        const bytes = this.read() as ArrayBuffer | undefined;
        if (bytes && bytes.byteLength > 0) onBytes(new Uint8Array(bytes), line.takeErrors(options));
      },
    } as ConstructorParameters<typeof Serial>[0]);
    line.set(options, settings);
    line.takeErrors(options); // errors from before the line format was right do not count
  }

  write(bytes: Uint8Array): void {
    this.uart?.write(bytes);
  }

  close(): void {
    this.uart?.close();
    this.uart = null;
  }
}
