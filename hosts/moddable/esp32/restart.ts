// Restart on the ESP32: the global System of Moddable's ECMA-419 io manifest
// (esp_restart underneath). On esp32 that manifest registers the code as the
// module "system" and sets globalThis.System: there is no module
// "embedded:io/system" to import, though the typings declare one.

export function restart(): void {
  System.restart();
}
