// The wire between the firmware inside XS and the simulator's ports on Node.
// Messages are JSON. Bytes travel as {"$b": base64}; a function passed to a
// port travels as {"$f": id} and comes back as a call into XS.
//
//   XS -> Node (issueCommand):  {"p": port, "m": method, "a": [args]}
//                               answered {"r": result} or {"e": message, "k": kind}
//   Node -> XS (handleCommand): {"t": "boot"}                    start the firmware
//                               {"t": "cb", "id", "a": [args]}   call a callback
//                               {"t": "http", "id", "req"}       a request to a server
//                               {"t": "settle", "id", "ok", "v"} a promise's outcome
//                               {"t": "status"}                  the firmware's counters

export interface Base64 {
  encode(bytes: Uint8Array): string;
  decode(text: string): Uint8Array;
}

export type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };

/** Converts a value for the wire; `fn` names a function passed along. */
export function toWire(value: unknown, b64: Base64, fn: (f: (...args: unknown[]) => unknown) => number): Wire {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array) return { $b: b64.encode(value) };
  if (typeof value === 'function') return { $f: fn(value as (...args: unknown[]) => unknown) };
  if (Array.isArray(value)) return value.map((v) => toWire(v, b64, fn));
  if (typeof value === 'object') {
    const out: { [key: string]: Wire } = {};
    for (const key of Object.keys(value as object)) out[key] = toWire((value as { [k: string]: unknown })[key], b64, fn);
    return out;
  }
  return value as Wire;
}

/** Converts a value from the wire; `fn` turns a function id into a callable. */
export function fromWire(value: Wire, b64: Base64, fn: (id: number) => (...args: unknown[]) => unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => fromWire(v, b64, fn));
  if (typeof value.$b === 'string') return b64.decode(value.$b);
  if (typeof value.$f === 'number') return fn(value.$f);
  const out: { [key: string]: unknown } = {};
  for (const key of Object.keys(value)) out[key] = fromWire(value[key], b64, fn);
  return out;
}
