// What a caller may see one by one: the meters and households a household
// user owns, every one for the admin. Another household's meter answers as a
// meter that does not exist (404), never "forbidden": its existence is not
// told either.

import { HttpError, type Caller } from '../auth';
import type { Household, Meter, RegistryStore } from '../store';

/** The zone of a household that names none. */
export const ZONE_DEFAULT = 'Europe/Berlin';

export async function visibleMeter(registry: RegistryStore, caller: Caller, id: string): Promise<Meter> {
  const m = await registry.meter(id);
  if (!m || (caller.role === 'household' && m.householdId !== caller.householdId)) throw new HttpError(404, `no meter ${id}`);
  return m;
}

export async function visibleHousehold(registry: RegistryStore, caller: Caller, id: string): Promise<Household> {
  if (caller.role === 'household' && caller.householdId !== id) throw new HttpError(404, `no household ${id}`);
  const h = await registry.household(id);
  if (!h) throw new HttpError(404, `no household ${id}`);
  return h;
}

/** The meter's household's zone. */
export async function zoneOf(registry: RegistryStore, m: Meter): Promise<string> {
  return (await registry.household(m.householdId))?.zone ?? ZONE_DEFAULT;
}
