// The firmware's version: written from package.json's "version" by
// scripts/build.mjs (npm ci, npm test, npm start run it), so that the
// version has one source; src/ cannot read package.json on the device.
export const FIRMWARE_VERSION = '0.2.0';
