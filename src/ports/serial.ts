// Serial port: the UART the meter's dongle or click board is wired to.

export type Parity = 'none' | 'even' | 'odd';

/** Line settings of a meter interface: 9600 7E1, 2400 8E1, inverted 115200 8N1 ... */
export interface LineSettings {
  baud: number;
  dataBits: 7 | 8;
  parity: Parity;
  stopBits: 1 | 2;
  /** Receive line inverted: DSMR P1 ports send inverted TTL levels. */
  inverted: boolean;
}

/**
 * Where the meter is wired: the optical port's IR head (SML, IEC 62056-21;
 * a P1 adapter uses the same input) or an M-Bus click board (DLMS over M-Bus).
 */
export type Connector = 'optical' | 'mbus';

/**
 * Received bytes, in chunks as the UART driver hands them over (any size,
 * any split). `lineError` is true when the UART saw a parity or framing
 * error since the last chunk: some byte up to the end of this chunk is wrong.
 */
export type ReceiveHandler = (chunk: Uint8Array, lineError: boolean) => void;

export interface SerialPort {
  /**
   * Opens the UART behind `connector` with these settings and starts
   * delivering received bytes. Opening an open port reopens it with the new
   * settings (auto-detection).
   */
  open(connector: Connector, settings: LineSettings, onBytes: ReceiveHandler): void;
  /** Sends bytes (IEC 62056-21 mode C sends a request first). */
  write(bytes: Uint8Array): void;
  close(): void;
}

export function describeLine(s: LineSettings): string {
  return `${s.baud} ${s.dataBits}${s.parity[0].toUpperCase()}${s.stopBits}${s.inverted ? ' inverted' : ''}`;
}
