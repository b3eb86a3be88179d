/** MCP test helpers shared by the relay and the MCP rate-limit suites. */
import { expect } from 'vitest';
import { callAs } from './principal';

/** Opens /mcp/sse as `credential` and returns the session id from the origin's endpoint event. */
export async function openMcpSession(credential: string): Promise<string> {
  const res = await callAs(credential, '/mcp/sse');
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  return /session_id=([0-9a-f]+)/.exec(text)![1]!;
}
