/**
 * MCP tool calls relayed to the origin, in the usage rollups: route `mcp`, engine `origin`, one
 * request per admitted call with its URLs as pages and its charge as credits (the relay forwards
 * bytes it does not parse, so what the call costs is fixed at admission).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { ToolCallInfo } from '../crawl/mcp-policy';
import { attribution } from './meter';
import { recordUsage } from './rollup';

export function recordMcpCall(c: Context<AppEnv>, call: ToolCallInfo, credits: number, background: (p: Promise<unknown>) => void): void {
  const principal = c.get('principal');
  if (!principal) return;
  recordUsage(
    c.env.DB,
    {
      ...attribution(principal),
      route: 'mcp',
      engine: 'origin',
      requests: 1,
      pages: Math.max(1, call.urls),
      failedPages: 0,
      errors: 0,
      bytes: 0,
      browserMs: 0,
      originMs: 0,
      credits,
    },
    Date.now(),
    background,
  );
}
