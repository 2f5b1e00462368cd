// What a caller may see one by one: the meters, households and devices a
// household user owns, every one for the admin. Another household's meter
// answers as a meter that does not exist (404), never "forbidden": its
// existence is not told either.

import type { FastifyInstance } from 'fastify';
import { HttpError, type Caller } from '../auth';
import type { Device, Household, Meter, RegistryStore } from '../store';

/** What the route's path names ({meterId}, {householdId}, {deviceId}), found and visible to the caller. */
export interface Visible {
  meter?: Meter;
  household?: Household;
  device?: Device;
}

declare module 'fastify' {
  interface FastifyRequest {
    visible: Visible;
  }
}

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

export async function visibleDevice(registry: RegistryStore, caller: Caller, id: string): Promise<Device> {
  const d = await registry.device(id);
  if (!d || (caller.role === 'household' && d.householdId !== caller.householdId)) throw new HttpError(404, `no device ${id}`);
  return d;
}

/**
 * For the routes of this plugin's scope: what their path names, in
 * request.visible, before their query or body is validated (after the
 * caller's role is checked), so that a meter the caller may not see is not
 * found whatever is asked of it.
 */
export function resolvePath(app: FastifyInstance, registry: RegistryStore): void {
  if (!app.hasRequestDecorator('visible')) app.decorateRequest('visible', null as unknown as Visible);
  app.addHook('preValidation', async (request) => {
    const p = request.params as { meterId?: string; householdId?: string; deviceId?: string };
    const visible: Visible = {};
    if (p.meterId !== undefined) visible.meter = await visibleMeter(registry, request.caller, p.meterId);
    if (p.householdId !== undefined) visible.household = await visibleHousehold(registry, request.caller, p.householdId);
    if (p.deviceId !== undefined) visible.device = await visibleDevice(registry, request.caller, p.deviceId);
    request.visible = visible;
  });
}
