/*
 * The ESP32's OTA boot state and rollback, native over ESP-IDF's app_update
 * (see ota-boot.c). Writing the slot is Moddable's ota module.
 */
export function runningState() { return native("xs_otaboot_running_state").call(this); }
export function runningSlot() { return native("xs_otaboot_running_slot").call(this); }
export function markValid() { return native("xs_otaboot_mark_valid").call(this); }
export function rollback() { return native("xs_otaboot_rollback").call(this); }
export function inactiveSize() { return native("xs_otaboot_inactive_size").call(this); }
export function readInactive(offset, length) { return native("xs_otaboot_read_inactive").call(this, offset, length); }
