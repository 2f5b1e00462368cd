/*
 * Sets data bits, parity, stop bits and receive-line inversion on the UART
 * that an embedded:io/serial instance opened, and reports its parity and
 * framing errors (see uart-line.c).
 */
export default function setLine(port, dataBits, parity, stopBits, inverted) {
	return native("xs_uartline_set").call(this, port, dataBits, parity, stopBits, inverted);
}

export function takeErrors(port) {
	return native("xs_uartline_take_errors").call(this, port);
}
