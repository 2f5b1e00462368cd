/*
 * Line settings for a UART that embedded:io/serial opened. Moddable's ESP32
 * serial is fixed to 8N1; meters need 2400 8E1 (M-Bus), 300/9600 7E1 (IEC
 * 62056-21) and an inverted receive line (DSMR P1). The ESP-IDF calls used
 * here change the UART's registers and do not need the IDF UART driver
 * installed (Moddable's serial does not install it).
 *
 * takeErrors reports whether the UART saw a parity or framing error since
 * the last call: the hardware sets these raw interrupt bits whether or not
 * the interrupts are enabled (Moddable's serial enables only its receive
 * interrupts). IEC 62056-21 mode D has no checksum; parity is its only guard.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "driver/uart.h"
#include "hal/uart_ll.h"

/* setLine(port, dataBits, parity, stopBits, inverted); parity 0 none, 1 even, 2 odd */
void xs_uartline_set(xsMachine *the)
{
	int port = xsmcToInteger(xsArg(0));
	int dataBits = xsmcToInteger(xsArg(1));
	int parity = xsmcToInteger(xsArg(2));
	int stopBits = xsmcToInteger(xsArg(3));
	int inverted = xsmcToBoolean(xsArg(4));

	if ((port < 0) || (port >= UART_NUM_MAX))
		xsRangeError("uart-line: invalid port");
	if ((dataBits < 5) || (dataBits > 8))
		xsRangeError("uart-line: data bits must be 5..8");
	if ((parity < 0) || (parity > 2))
		xsRangeError("uart-line: invalid parity");
	if ((stopBits != 1) && (stopBits != 2))
		xsRangeError("uart-line: stop bits must be 1 or 2");

	if (uart_set_word_length(port, (uart_word_length_t)(UART_DATA_5_BITS + (dataBits - 5))) != ESP_OK)
		xsUnknownError("uart-line: data bits refused");
	if (uart_set_parity(port, (0 == parity) ? UART_PARITY_DISABLE : (1 == parity) ? UART_PARITY_EVEN : UART_PARITY_ODD) != ESP_OK)
		xsUnknownError("uart-line: parity refused");
	if (uart_set_stop_bits(port, (1 == stopBits) ? UART_STOP_BITS_1 : UART_STOP_BITS_2) != ESP_OK)
		xsUnknownError("uart-line: stop bits refused");
	if (uart_set_line_inverse(port, inverted ? UART_SIGNAL_RXD_INV : UART_SIGNAL_INV_DISABLE) != ESP_OK)
		xsUnknownError("uart-line: line inversion refused");
}

/* takeErrors(port): true when a parity or framing error was seen since the last call; clears the flags */
void xs_uartline_take_errors(xsMachine *the)
{
	int port = xsmcToInteger(xsArg(0));
	uart_dev_t *hw;
	uint32_t raw;

	if ((port < 0) || (port >= UART_NUM_MAX))
		xsRangeError("uart-line: invalid port");
	hw = UART_LL_GET_HW(port);
	raw = uart_ll_get_intraw_mask(hw) & (UART_INTR_PARITY_ERR | UART_INTR_FRAM_ERR);
	if (raw)
		uart_ll_clr_intsts_mask(hw, raw);
	xsmcSetBoolean(xsResult, raw != 0);
}
