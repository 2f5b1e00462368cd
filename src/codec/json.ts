// JSON text of a value, on every engine the firmware runs on. On the device the
// app's modules are preloaded: the objects they create at build time (defaults,
// constant answers) live in flash, and XS's JSON.stringify throws "read only
// value" on such an object, because it marks each object it visits to detect
// cycles. The replacer hands JSON.stringify a shallow copy of every object and
// array instead, so that the objects it marks are always in RAM; the output is
// the same as JSON.stringify(value).

function inRam(this: unknown, _key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  return Array.isArray(value) ? value.slice() : { ...value };
}

export function jsonText(value: unknown): string {
  return JSON.stringify(value, inRam);
}
