// A power failure in the simulated world, as the host's ports see it: the
// NOR flash (simulator/world/flash.ts) throws it part way through a program
// or an erase, a boot that has ended throws it on any flash or NVS write, and
// the XS engine passes it across. Declared here, with the ports that carry
// it, so that the world depends on the host and not the other way.

/** Thrown when the simulated power fails during a flash operation: the device is dead. */
export class PowerCut extends Error {
  constructor() {
    super('power cut');
  }
}
