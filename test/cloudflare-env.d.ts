// `env` from 'cloudflare:workers' in tests is the Worker's own Env.
import type { Env as WorkerEnv } from '../src/env';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
  }
}
