/*
 * Stand-in for ESP-IDF's driver/uart.h with the declarations uart-line.c
 * uses, as ESP-IDF v6.0 declares them: enough to compile the binding on the
 * desktop. The real header is used on the device.
 */
#include <stdint.h>
typedef int esp_err_t;
#define ESP_OK 0
typedef int uart_port_t;
#define UART_NUM_MAX 3
typedef enum { UART_DATA_5_BITS = 0x0, UART_DATA_6_BITS = 0x1, UART_DATA_7_BITS = 0x2, UART_DATA_8_BITS = 0x3 } uart_word_length_t;
typedef enum { UART_PARITY_DISABLE = 0x0, UART_PARITY_EVEN = 0x2, UART_PARITY_ODD = 0x3 } uart_parity_t;
typedef enum { UART_STOP_BITS_1 = 0x1, UART_STOP_BITS_1_5 = 0x2, UART_STOP_BITS_2 = 0x3 } uart_stop_bits_t;
typedef enum { UART_SIGNAL_INV_DISABLE = 0, UART_SIGNAL_RXD_INV = (0x1 << 2) } uart_signal_inv_t;
esp_err_t uart_set_word_length(uart_port_t uart_num, uart_word_length_t data_bit);
esp_err_t uart_set_parity(uart_port_t uart_num, uart_parity_t parity_mode);
esp_err_t uart_set_stop_bits(uart_port_t uart_num, uart_stop_bits_t stop_bits);
esp_err_t uart_set_line_inverse(uart_port_t uart_num, uint32_t inverse_mask);
