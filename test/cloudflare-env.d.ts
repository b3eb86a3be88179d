// `env` from 'cloudflare:workers' in tests is the Worker's own Env: the generated bindings and vars
// (src/env.generated.d.ts) plus the config strings (secrets, optional vars) src/env.ts adds.
import type { ConfigStrings } from '../src/env';

declare global {
  namespace Cloudflare {
    interface Env extends ConfigStrings {}
  }
}
