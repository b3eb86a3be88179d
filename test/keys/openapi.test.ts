import { describe, expect, it } from 'vitest';
import { send } from './helpers';

describe('GET /openapi.json (key routes)', () => {
  it('documents every key route with its permission and never a digest field', async () => {
    const res = await send('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<{
      paths: Record<string, Record<string, { 'x-permission'?: string }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>();
    expect(doc.paths['/admin/keys']?.post?.['x-permission']).toBe('keys:manage');
    expect(doc.paths['/admin/keys']?.get?.['x-permission']).toBe('keys:read');
    expect(doc.paths['/admin/keys/{id}']?.get?.['x-permission']).toBe('keys:read');
    expect(doc.paths['/admin/keys/{id}']?.patch?.['x-permission']).toBe('keys:manage');
    expect(doc.paths['/admin/keys/{id}']?.delete?.['x-permission']).toBe('keys:manage');
    expect(doc.paths['/admin/keys/{id}/rotate']?.post?.['x-permission']).toBe('keys:manage');
    expect(doc.paths['/auth/api-key/validate']?.post).toBeDefined();
    // Self-service keys: one permission for every verb; the create body has no owner field.
    for (const [p, verbs] of [
      ['/keys', ['get', 'post']],
      ['/keys/{id}', ['get', 'patch', 'delete']],
      ['/keys/{id}/rotate', ['post']],
    ] as const) {
      for (const v of verbs) expect(doc.paths[p]?.[v]?.['x-permission'], `${v} ${p}`).toBe('keys:self');
    }
    expect(Object.keys(doc.components.schemas.CreateOwnKeyRequest?.properties ?? {})).not.toContain('owner');
    expect(Object.keys(doc.components.schemas.ApiKey?.properties ?? {})).not.toContain('digest');
  });
});
