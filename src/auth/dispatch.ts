/**
 * In-process dispatch: a request the gateway sends to itself on behalf of an authenticated caller
 * (an MCP tool call → the tool's HTTP route). The caller was authenticated moments ago by the
 * outer request; the inner one carries the same principal so the route's guards (permission,
 * policy, egress, limits, leases, metering, audit) run exactly as for an HTTP client.
 *
 * The principal rides on the ExecutionContext object the dispatcher creates (a WeakMap key no
 * client can forge or name: workerd builds every external request's context itself).
 */
import type { Principal } from './principal';

const dispatched = new WeakMap<object, Principal>();

/** An ExecutionContext for an inner request acting as `principal`; waitUntil goes to the outer one. */
export function dispatchContext(outer: ExecutionContext | undefined, principal: Principal): ExecutionContext {
  const ctx = {
    waitUntil: (p: Promise<unknown>) => (outer ? outer.waitUntil(p) : undefined),
    passThroughOnException: () => outer?.passThroughOnException(),
    props: outer?.props ?? {},
  } as unknown as ExecutionContext; // the two methods and props are all Hono and the app use
  dispatched.set(ctx, principal);
  return ctx;
}

/** The principal an in-process dispatch acts as, when this request is one. */
export function dispatchedPrincipal(ctx: unknown): Principal | undefined {
  return ctx && typeof ctx === 'object' ? dispatched.get(ctx) : undefined;
}
