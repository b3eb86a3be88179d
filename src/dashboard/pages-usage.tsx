/**
 * Usage and budget pages (docs/metering.md): /dashboard/keys/{id}/usage and
 * /dashboard/users/{username}/usage show the budget (used, remaining, refill) and the four charts
 * (src/dashboard/usage-charts.tsx); a form sets or removes the budget through the same JSON API
 * (PATCH /admin/keys/{id}, /keys/{id}, /admin/users/{username}), which decides who may.
 */
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../env';
import { Csrf, Page } from './layout';
import { flashOf, forbidden, send, whoAmI } from './render';
import { guardPost } from './guard';
import { DashSession } from './session';
import { keysApi } from './pages-keys';
import { fillDays, UsageCharts, type UsageDay } from './usage-charts';
import type { BudgetView } from '../metering/budget-ledger';

const DAYS = 14;

interface UsageBody {
  budget: BudgetView | null;
  totals: { requests: number; pages: number; credits: number; errors: number };
  daily: UsageDay[];
}

type Me = Parameters<typeof Page>[0]['me'];

/** Pure: the budget as one line ("80 of 100 credits left this day; refills …"). */
export function budgetLine(b: BudgetView | null | undefined): string {
  if (!b) return 'no budget';
  return `${b.remaining} of ${b.credits} credits left this ${b.period} (refills ${b.resets_at.replace('T', ' ').slice(0, 16)} UTC)`;
}

function UsagePage(props: { me: Me; csrf: string; title: string; body: UsageBody; action: string | null; flash: string | null }) {
  const b = props.body.budget;
  return (
    <Page title={props.title} me={props.me} csrf={props.csrf} flash={props.flash} error={null}>
      <table>
        <tbody>
          <tr>
            <th>Budget</th>
            <td id="budget">{budgetLine(b)}</td>
          </tr>
          <tr>
            <th>Last {DAYS} days</th>
            <td id="totals">
              {props.body.totals.requests} requests, {props.body.totals.pages} pages, {props.body.totals.credits} credits,{' '}
              {props.body.totals.errors} errors
            </td>
          </tr>
        </tbody>
      </table>
      {props.action && (
        <form method="post" action={props.action}>
          <Csrf token={props.csrf} />
          <label>
            Credits{' '}
            <input name="credits" type="number" min="0" step="any" value={b ? String(b.credits) : ''} placeholder="empty: no budget" />
          </label>{' '}
          <label>
            per{' '}
            <select name="period">
              <option value="day" selected={b?.period !== 'month'}>
                day
              </option>
              <option value="month" selected={b?.period === 'month'}>
                month
              </option>
            </select>
          </label>{' '}
          <button type="submit">Set budget</button>
        </form>
      )}
      <UsageCharts days={fillDays(props.body.daily, DAYS, Date.now())} />
    </Page>
  );
}

/** The budget a form asks for: empty credits = remove it. */
function budgetOf(form: Record<string, string | undefined>): { credits: number; period: 'day' | 'month' } | null | 'invalid' {
  const raw = (form.credits ?? '').trim();
  if (raw === '') return null;
  const credits = Number(raw);
  if (!Number.isFinite(credits) || credits < 0) return 'invalid';
  return { credits, period: form.period === 'month' ? 'month' : 'day' };
}

async function setBudgetFrom(c: Context<AppEnv>, patchPath: string, back: string): Promise<Response> {
  const g = await guardPost(c);
  if (!g.ok) return forbidden(c, null, '', g.reason);
  const budget = budgetOf(g.form);
  if (budget === 'invalid') return c.redirect(`${back}?m=invalid`, 303);
  const res = await g.session.api('PATCH', patchPath, { budget });
  if (res.status === 403 || res.status === 404) {
    const { me, csrf } = await whoAmI(c, g.session);
    return forbidden(c, me, csrf, res.error ?? 'Forbidden');
  }
  return c.redirect(`${back}?m=${res.ok ? 'budget' : 'invalid'}`, 303);
}

const FLASHES: Record<string, string> = { budget: 'The budget was saved.', invalid: 'That budget was not accepted.' };

export function usagePages(r: Hono<AppEnv>): void {
  r.get('/dashboard/keys/:id/usage', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    if (!me) return forbidden(c, null, csrf, 'Sign in');
    const id = c.req.param('id');
    const res = await s.api<UsageBody>('GET', `${keysApi(me)}/${encodeURIComponent(id)}/usage?days=${DAYS}`);
    if (!res.ok) return forbidden(c, me, csrf, res.error ?? 'Not allowed');
    const canManage = me.permissions.includes('keys:manage') || me.permissions.includes('keys:self');
    const action = canManage ? `/dashboard/keys/${encodeURIComponent(id)}/budget` : null;
    return send(
      c,
      <UsagePage
        me={me}
        csrf={csrf}
        title={`Usage of key ${id}`}
        body={res.body}
        action={action}
        flash={FLASHES[c.req.query('m') ?? ''] ?? flashOf(c)}
      />,
    );
  });

  r.post('/dashboard/keys/:id/budget', async (c) => {
    const s = await DashSession.open(c);
    const { me } = await whoAmI(c, s);
    const id = encodeURIComponent(c.req.param('id'));
    return setBudgetFrom(c, `${me ? keysApi(me) : '/keys'}/${id}`, `/dashboard/keys/${id}/usage`);
  });

  r.get('/dashboard/users/:username/usage', async (c) => {
    const s = await DashSession.open(c);
    const { me, csrf } = await whoAmI(c, s);
    const name = c.req.param('username');
    const res = await s.api<UsageBody>('GET', `/admin/users/${encodeURIComponent(name)}/usage?days=${DAYS}`);
    if (!res.ok) return forbidden(c, me, csrf, res.error ?? 'Not allowed');
    const action = `/dashboard/users/${encodeURIComponent(name)}/budget`;
    return send(
      c,
      <UsagePage
        me={me}
        csrf={csrf}
        title={`Usage of ${name}`}
        body={res.body}
        action={action}
        flash={FLASHES[c.req.query('m') ?? ''] ?? flashOf(c)}
      />,
    );
  });

  r.post('/dashboard/users/:username/budget', async (c) => {
    const name = encodeURIComponent(c.req.param('username'));
    return setBudgetFrom(c, `/admin/users/${name}`, `/dashboard/users/${name}/usage`);
  });
}
