// The portal's routing: which paths need a session, and the CSRF check on
// every request that changes state. A handler throws HttpError to refuse.

import type { HttpRequest, HttpResponse } from '../ports/http';
import type { Auth, Session } from './auth';
import { HttpError, json, readJson, splitPath } from './http';

export type Access = 'public' | 'session';

interface Context {
  request: HttpRequest;
  path: string;
  query: string;
  /** Null on public routes without a session. */
  session: Session | null;
  /** The JSON body (parsed on demand, bounded). */
  body(): { [key: string]: unknown };
}

export type Handler = (ctx: Context) => HttpResponse;

interface Route {
  method: string;
  path: string;
  access: Access;
  handler: Handler;
}

const CSRF_HEADER = 'x-csrf-token';

export class Router {
  private readonly routes: Route[] = [];
  private readonly auth: Auth;
  private readonly onError: (message: string) => void;

  constructor(auth: Auth, onError: (message: string) => void) {
    this.auth = auth;
    this.onError = onError;
  }

  add(method: string, path: string, access: Access, handler: Handler): void {
    this.routes.push({ method, path, access, handler });
  }

  /** The response of a route, or null when no route has this path. */
  handle(request: HttpRequest): HttpResponse | null {
    const { path, query } = splitPath(request.path);
    const routes = this.routes.filter((r) => r.path === path);
    if (!routes.length) return null;
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const route = routes.find((r) => r.method === method);
    if (!route) return json(405, { error: `${request.method} is not allowed here` }, { allow: routes.map((r) => r.method).join(', ') });
    const session = this.auth.session(request);
    if (route.access === 'session') {
      if (!session) return json(401, { error: 'log in first' });
      // Every state-changing request carries the session's CSRF token in a header a cross-site form cannot set.
      if (method !== 'GET' && request.headers[CSRF_HEADER] !== session.csrf) return json(403, { error: 'missing or wrong CSRF token: reload the page' });
    }
    let parsed: { [key: string]: unknown } | null = null;
    const ctx: Context = { request, path, query, session, body: () => (parsed ??= readJson(request)) };
    try {
      return route.handler(ctx);
    } catch (e) {
      if (e instanceof HttpError) return json(e.status, { error: e.message }, e.headers);
      // The message of an unexpected error may quote input: only its kind goes to the log.
      this.onError(`portal: ${method} ${path} failed (${e instanceof Error ? e.name : 'error'})`);
      return json(500, { error: 'internal error' });
    }
  }
}
