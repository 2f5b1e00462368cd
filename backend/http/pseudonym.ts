// What research callers see instead of a meter id: stable per meter and
// server key, not reversible without the key.

import { createHmac } from 'node:crypto';

export function pseudonym(key: string, meterId: string): string {
  return 'p-' + createHmac('sha256', key).update('meter:' + meterId).digest('hex').slice(0, 16);
}
