// Serial port on the ESP32: ECMA-419 embedded:io/serial, with the line format
// (data bits, parity, stop bits, RX inversion) set by the native uart-line
// module, since Moddable's serial opens every UART at 8N1, and the UART's
// parity and framing errors reported with each chunk.

import Serial from 'embedded:io/serial';
import setLine, { takeErrors } from 'uart-line';
import type { Connector, LineSettings, ReceiveHandler, SerialPort } from '../../src/ports/serial';

export interface UartPins {
  port: number;
  receive: number;
  transmit: number;
}

const PARITY = { none: 0, even: 1, odd: 2 } as const;

export class Esp32Serial implements SerialPort {
  private readonly wiring: Record<Connector, UartPins>;
  private uart: Serial | null = null;

  constructor(wiring: Record<Connector, UartPins>) {
    this.wiring = wiring;
  }

  open(connector: Connector, settings: LineSettings, onBytes: ReceiveHandler): void {
    this.close();
    const pins = this.wiring[connector];
    const port = pins.port;
    this.uart = new Serial({
      port: pins.port,
      receive: pins.receive,
      transmit: pins.transmit,
      baud: settings.baud,
      format: 'buffer',
      onReadable(this: Serial) {
        const bytes = this.read() as ArrayBuffer | undefined;
        if (bytes && bytes.byteLength > 0) onBytes(new Uint8Array(bytes), takeErrors(port));
      },
    });
    setLine(port, settings.dataBits, PARITY[settings.parity], settings.stopBits, settings.inverted);
    takeErrors(port); // errors from before the line format was right do not count
  }

  write(bytes: Uint8Array): void {
    this.uart?.write(bytes);
  }

  close(): void {
    this.uart?.close();
    this.uart = null;
  }
}
