// The power-cut sweep of tests/reading-log-cuts.test.ts on a longer workload: 2,400 appends, three wraps.

import { describe, expect, it } from 'vitest';
import { sweep } from '../support/log-cuts';

describe('the reading log under power cuts, longer', () => {
  it('at every program and erase step of 2,400 appends, recovers every returned entry, no duplicates, the cursor never back', () => {
    expect(sweep(2400)).toBeGreaterThanOrEqual(3);
  }, 600_000);
});
