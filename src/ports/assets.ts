// Assets port: the portal's pages (HTML, CSS, JS), compiled into the app. On
// the ESP32 they are the manifest's resources, read in place from flash with
// Moddable's Resource; on the desktop the same files read from assets/portal/.

export interface AssetsPort {
  /** The bytes of asset `name` ("index.html"), or null when there is none. */
  get(name: string): Uint8Array | null;
  /** Every asset's name. */
  names(): string[];
}
