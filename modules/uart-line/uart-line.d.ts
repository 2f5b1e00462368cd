declare module 'uart-line' {
  /**
   * Sets the line format of UART `port` (after embedded:io/serial opened it at 8N1).
   * parity: 0 none, 1 even, 2 odd.
   */
  export default function setLine(port: number, dataBits: number, parity: 0 | 1 | 2, stopBits: 1 | 2, inverted: boolean): void;
  /** True when UART `port` saw a parity or framing error since the last call (the flags are cleared). */
  export function takeErrors(port: number): boolean;
}
