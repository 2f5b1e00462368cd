// Stands in for the ESP32's UART line settings (esp32/line.ts) on lin. The
// meter connector there is a pty whose other end a virtual meter writes
// bytes to: a pty has no baud rate, parity or stop bits to set, and no line
// errors to report, so there is nothing to do. (Moddable's lin serial does set
// the baud on a real USB adapter; its data bits and parity stay 8N1.)

import type { UartLine } from '../serial';

export const linLine: UartLine = {
  set(): void {},
  takeErrors(): boolean {
    return false;
  },
};
