/*
 * What Moddable's ota module leaves out and the firmware updater needs of
 * ESP-IDF's app_update component: the running image's state (pending-verify
 * after an update until the self-test marks it valid), marking it valid (the
 * bootloader's rollback is cancelled), rolling back at once, and reading the
 * inactive slot back (the updater hashes what it wrote, not what it received).
 * The bootloader must be built with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
 * (docs/ota.md); without it every image is valid from its first boot.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"

static const char *stateName(esp_ota_img_states_t state)
{
	switch (state) {
	case ESP_OTA_IMG_NEW: return "new";
	case ESP_OTA_IMG_PENDING_VERIFY: return "pending-verify";
	case ESP_OTA_IMG_VALID: return "valid";
	case ESP_OTA_IMG_INVALID: return "invalid";
	case ESP_OTA_IMG_ABORTED: return "aborted";
	default: return "undefined";
	}
}

/* runningState(): the running slot's state; "undefined" for a factory image or a bootloader without rollback. */
void xs_otaboot_running_state(xsMachine *the)
{
	esp_ota_img_states_t state;
	const esp_partition_t *running = esp_ota_get_running_partition();
	if (!running || esp_ota_get_state_partition(running, &state) != ESP_OK)
		xsmcSetString(xsResult, "undefined");
	else
		xsmcSetString(xsResult, (char *)stateName(state));
}

/* runningSlot(): the running app partition's label ("ota_0"). */
void xs_otaboot_running_slot(xsMachine *the)
{
	const esp_partition_t *running = esp_ota_get_running_partition();
	xsmcSetString(xsResult, running ? (char *)running->label : "");
}

void xs_otaboot_mark_valid(xsMachine *the)
{
	if (esp_ota_mark_app_valid_cancel_rollback() != ESP_OK)
		xsUnknownError("ota-boot: could not mark the running image valid");
}

/* rollback(): marks the running image invalid and restarts into the other slot (does not return when it can). */
void xs_otaboot_rollback(xsMachine *the)
{
	if (esp_ota_mark_app_invalid_rollback_and_reboot() != ESP_OK)
		xsUnknownError("ota-boot: no other image to roll back to");
}

/* inactiveSize(): bytes in the slot the next update goes to. */
void xs_otaboot_inactive_size(xsMachine *the)
{
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	xsmcSetInteger(xsResult, next ? (xsIntegerValue)next->size : 0);
}

/* readInactive(offset, length): bytes of the slot the next update goes to. */
void xs_otaboot_read_inactive(xsMachine *the)
{
	void *out;
	xsUnsignedValue outLength;
	xsIntegerValue offset = xsmcToInteger(xsArg(0));
	xsIntegerValue length = xsmcToInteger(xsArg(1));
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	if (!next)
		xsUnknownError("ota-boot: no update partition");
	if ((offset < 0) || (length < 0) || (length > 16384) || ((uint32_t)(offset + length) > next->size))
		xsRangeError("ota-boot: read outside the update partition");
	xsmcSetArrayBuffer(xsResult, NULL, (xsUnsignedValue)length);
	xsmcGetBufferWritable(xsResult, &out, &outLength);
	if (esp_partition_read(next, (size_t)offset, out, outLength) != ESP_OK)
		xsUnknownError("ota-boot: read failed");
}
