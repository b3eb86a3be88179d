/**
 * Edge engines (the edge-engine issue implements `browser` and `fetch`). Until they land, asking
 * for one is a clear 503 rather than a silent forward.
 */
import type { Env } from '../../env';
import type { EdgeEngine, EdgeEngineKind } from '../types';
import { GatewayError } from '../../http/errors';

export function getEdgeEngine(_env: Env, kind: EdgeEngineKind): EdgeEngine {
  throw new GatewayError('service_unavailable', `The ${kind} edge engine is not available in this build; set ORIGIN_URL`);
}
