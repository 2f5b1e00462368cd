// The UART line format on the ESP32: Moddable's serial opens every UART at
// 8N1; the native uart-line module sets data bits, parity, stop bits and RX
// inversion on the UART's registers, and counts its parity and framing errors.

import setLine, { takeErrors } from 'uart-line';
import type { UartLine, UartOptions } from '../serial';
import type { LineSettings } from '../../../src/ports/serial';

const PARITY = { none: 0, even: 1, odd: 2 } as const;

function uart(options: UartOptions): number {
  if (!('port' in options)) throw new Error('an ESP32 meter connector names its UART port and pins');
  return options.port;
}

export const esp32Line: UartLine = {
  set(options: UartOptions, settings: LineSettings): void {
    setLine(uart(options), settings.dataBits, PARITY[settings.parity], settings.stopBits, settings.inverted);
  },
  takeErrors(options: UartOptions): boolean {
    return takeErrors(uart(options));
  },
};
