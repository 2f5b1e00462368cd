// The household dashboard's web app: its files and uPlot's, same origin,
// nothing loaded from elsewhere, under a content security policy.

import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../auth';
import { dashboardFiles } from '../dashboard';
import { content, refusals, text } from '../http/schemas';

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

export const dashboardRoutes: FastifyPluginAsyncZod = async (app) => {
  const files = dashboardFiles();
  const page = (reply: FastifyReply, name: string) => {
    const f = files.get(name);
    if (!f) throw new HttpError(404, `no file ${name}`);
    return reply.type(f.type).header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(f.body);
  };

  app.get(
    '/',
    {
      schema: {
        tags: ['dashboard'],
        operationId: 'dashboard',
        summary: 'The household dashboard (web app)',
        description: "The web app; it asks for a household or admin token and keeps it in the tab's sessionStorage.",
        security: [],
        response: { 200: content('The page.', { 'text/html': text }) },
      },
    },
    async (_request, reply) => page(reply, 'index.html'),
  );
  app.get(
    '/dashboard/:file',
    {
      schema: {
        tags: ['dashboard'],
        operationId: 'dashboardFile',
        summary: "The web app's scripts and styles, and uPlot's",
        security: [],
        params: z.object({ file: z.string() }).strict(),
        response: { 200: content('The file.', { 'text/javascript': text, 'text/css': text }), ...refusals(404) },
      },
    },
    // index.html only as /: one address for the page.
    async (request, reply) => page(reply, request.params.file === 'index.html' ? '' : request.params.file),
  );
};
