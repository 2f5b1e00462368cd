// Who may call a route. Every route of a plugin that calls requireCaller
// says who may call it in its config (`access: ['admin', 'household']`, or
// 'public'); the plugin's one onRequest hook identifies the caller and checks
// the role before anything else runs (a 401 or 403 before any 400), and the
// same declaration becomes the route's x-roles and security in /openapi.json.
// The hook lives in the plugin's own scope (fastify encapsulation): no other
// plugin's routes are touched by it.

import type { FastifyInstance, FastifySchema } from 'fastify';
import { allow, identify, type Caller } from '../auth';
import type { CredentialStore, Role } from '../store';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** The roles that may call the route, or 'public' (no credential asked). */
    access?: readonly Role[] | 'public';
  }
}

/** Devices present their certificate, or their token where a proxy terminates TLS; everyone else a token. */
function securityOf(roles: readonly Role[]): { [scheme: string]: string[] }[] {
  return roles.includes('device') ? [{ deviceCertificate: [] }, { bearerAuth: [] }] : [{ bearerAuth: [] }];
}

/** Authentication for the routes registered after it in this plugin's scope. */
export function requireCaller(app: FastifyInstance, credentials: CredentialStore): void {
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    // A route nobody said anything about would be public by accident.
    if (!access) throw new Error(`${route.method} ${route.url}: no access declared (config.access: the roles, or 'public')`);
    const documented = access === 'public' ? { security: [] } : { 'x-roles': [...access], security: securityOf(access) };
    route.schema = { ...route.schema, ...documented } as FastifySchema;
  });
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    request.caller = await identify(request, credentials);
    allow(request.caller, ...access);
  });
}
