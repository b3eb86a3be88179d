/** The floor crawlgate is measured against: check an API-key header, proxy to the origin. */
import { Hono } from 'hono';

type Bindings = { ORIGIN_URL: string; BENCH_KEY: string };
const app = new Hono<{ Bindings: Bindings }>();

app.get('/constant', (c) => c.json({ ok: true }));
app.all('*', async (c) => {
  if (c.req.header('X-API-Key') !== c.env.BENCH_KEY) return c.json({ detail: 'unauthorized' }, 401);
  const url = new URL(c.req.url);
  const target = new URL(url.pathname + url.search, c.env.ORIGIN_URL);
  return fetch(target, { method: c.req.method, headers: c.req.raw.headers, body: c.req.raw.body, redirect: 'manual' });
});

export default app;
