// Command-line errors: one line on stderr, exit status 2, never a stack trace.

export class UsageError extends Error {}

export function fail(message: string): never {
  throw new UsageError(message);
}

/** Parses a 16-byte AES key given as 32 hex digits, without ever echoing it. */
export function parseKey(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const hex = text.replace(/\s+/g, '');
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) fail(`${name} must be 32 hex digits (an AES-128 key)`);
  return hex.toLowerCase();
}
