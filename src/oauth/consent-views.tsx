/**
 * The views of the OAuth consent flow (consent.tsx holds the routes): the sign-in form and the
 * consent form listing the permissions a client may get. Everything the client supplied is escaped
 * by hono/jsx.
 */
import { Page, SignInFields, type Me } from '../dashboard/layout';
import { AUTHORIZE_PATH } from './server';

/** What each grantable permission lets a client do, in the user's words. */
export const SCOPE_TEXT: Record<string, string> = {
  'crawl:run': 'Crawl pages (crawl, md, html)',
  'crawl:screenshot': 'Take screenshots',
  'crawl:pdf': 'Print pages to PDF',
  'crawl:js': 'Run JavaScript on pages (execute_js)',
  'crawl:llm': 'Use LLM extraction',
  'crawl:proxy': 'Use custom proxies',
  'crawl:headers': 'Send custom headers and cookies',
  'crawl:deep': 'Deep crawls',
  'jobs:write': 'Submit crawl jobs',
  'jobs:read': 'Read your crawl jobs and their results',
};

/** Sign-in before consent (the dashboard session cookie did not come along). */
export function SignIn(props: { next: string; error: string | null }) {
  return (
    <Page title="Sign in to authorize an app" me={null} error={props.error}>
      <p>An MCP client asks to use crawlgate as you. Sign in with your crawlgate account to continue.</p>
      <form method="post" action={`${AUTHORIZE_PATH}/login`}>
        <input type="hidden" name="next" value={props.next} />
        <SignInFields />
      </form>
    </Page>
  );
}

/** The consent form: who the client is, where access goes, and the permissions to grant. */
export function Consent(props: {
  me: Me;
  csrf: string;
  handle: string;
  clientName: string;
  verifiedDomain?: string;
  redirectHost: string;
  loopback: boolean;
  offered: string[];
  checked: Set<string>;
}) {
  return (
    <Page title={`Allow ${props.clientName} to use crawlgate?`} me={props.me} csrf={props.csrf}>
      <p>
        {props.verifiedDomain ? (
          <>
            Published by <strong>{props.verifiedDomain}</strong>.
          </>
        ) : (
          'This app registered itself; its name is not verified.'
        )}{' '}
        Access will be sent to <strong>{props.redirectHost}</strong>.
      </p>
      {props.loopback && (
        <p class="error">
          <strong>This sends access to an app on your computer.</strong> Continue only if you just started signing in from it.
        </p>
      )}
      <form method="post" action={AUTHORIZE_PATH}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="handle" value={props.handle} />
        <fieldset>
          <legend>It may act as {props.me.principal.name} with these permissions (never more than you hold):</legend>
          {props.offered.map((s) => (
            <p>
              <label>
                <input type="checkbox" name="scope" value={s} checked={props.checked.has(s)} /> {SCOPE_TEXT[s] ?? s} <code>{s}</code>
              </label>
            </p>
          ))}
        </fieldset>
        <p>You can revoke this access at any time under Connected apps (/dashboard/grants).</p>
        <p>
          <button type="submit" name="decision" value="approve">
            Allow
          </button>{' '}
          <button type="submit" name="decision" value="deny">
            Deny
          </button>
        </p>
      </form>
    </Page>
  );
}
