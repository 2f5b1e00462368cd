// Power cuts at every program and erase step of the reading log (tests/support/log-cuts.ts says what is
// checked at each): 1,500 appends wrap the 3-sector ring twice; npm run test:long runs 2,400 (three times).

import { describe, expect, it } from 'vitest';
import { sweep } from './support/log-cuts';

describe('the reading log under power cuts', () => {
  it('at every program and erase step of 1,500 appends, recovers every returned entry, no duplicates, the cursor never back', () => {
    expect(sweep(1500)).toBeGreaterThanOrEqual(2);
  }, 300_000);
});
