/*
 * Stand-in for ESP-IDF's hal/uart_ll.h with what uart-line.c uses, as
 * ESP-IDF v6.0 declares it for the ESP32: enough to compile the binding on
 * the desktop. The real header is used on the device.
 */
#include <stdint.h>
typedef struct uart_dev_s uart_dev_t;
extern uart_dev_t UART0, UART1, UART2;
#define UART_LL_GET_HW(num) (((num) == 0) ? (&UART0) : (((num) == 1) ? (&UART1) : (&UART2)))
#define UART_INTR_PARITY_ERR (0x1 << 2)
#define UART_INTR_FRAM_ERR (0x1 << 3)
uint32_t uart_ll_get_intraw_mask(uart_dev_t *hw);
void uart_ll_clr_intsts_mask(uart_dev_t *hw, uint32_t mask);
