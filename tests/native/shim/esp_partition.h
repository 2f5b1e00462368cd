/*
 * Stand-in for ESP-IDF's esp_partition.h with what ota-boot.c uses, as
 * ESP-IDF v5 declares it: enough to compile the binding on the desktop.
 */
#ifndef SHIM_ESP_PARTITION_H
#define SHIM_ESP_PARTITION_H
#include <stddef.h>
#include <stdint.h>
typedef int esp_err_t;
#define ESP_OK 0
typedef struct {
	void *flash_chip;
	int type;
	int subtype;
	uint32_t address;
	uint32_t size;
	uint32_t erase_size;
	char label[17];
	int encrypted;
	int readonly;
} esp_partition_t;
esp_err_t esp_partition_read(const esp_partition_t *partition, size_t src_offset, void *dst, size_t size);
#endif
