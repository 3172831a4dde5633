/**
 * A Hono app as an origin behind the gateway: handlers for the routes of the demo-like policy of
 * origin-frameworks.test.ts, each answering which handler ran (x-handler, and in the body with the identity
 * headers it received). Method overrides through Hono's own middleware (header and `_method` query), as an
 * app that accepts them would be written.
 */
import { Hono, type Context } from 'hono';
import { methodOverride } from 'hono/method-override';
import { serveFetch } from './raw-http.ts';

function echo(c: Context, handler: string): Response {
  const identity = Object.fromEntries([...c.req.raw.headers].filter(([name]) => name.startsWith('x-verified-')));
  c.header('x-handler', handler);
  return c.json({ handler, method: c.req.method, path: c.req.path, identity });
}

export function honoApp(): Hono {
  const app = new Hono();
  app.use('*', methodOverride({ app, header: 'x-http-method-override' }));
  app.use('*', methodOverride({ app, query: '_method' }));
  app.get('/billing/export', (c) => echo(c, 'export'));
  app.all('/billing/admin', (c) => echo(c, 'admin'));
  app.all('/billing/admin/*', (c) => echo(c, 'admin'));
  app.delete('/billing/*', (c) => echo(c, 'delete'));
  app.on(['GET', 'POST', 'PUT'], '/billing/*', (c) => echo(c, 'billing'));
  app.all('/public/*', (c) => echo(c, 'public'));
  app.all('*', (c) => echo(c, 'other'));
  return app;
}

export const startHonoOrigin = () => serveFetch((request) => honoApp().fetch(request));
