import { checkProvider } from '../../providers/health.js';
import { Limits, Requests } from '../../protocol/methods.js';
import { route, type Route } from '../route.js';

/** Provider reachability for `:checkhealth` (a few seconds at most, never the keys), and the configured providers. */
export const healthRoutes: Route[] = [
  route(Requests.health, async (host, { timeoutMs }) => {
    const { env, version, client } = host.options;
    const config = host.runtime.config();
    const perProvider = await Promise.all(
      Object.entries(config.providers).map(([name, provider]) => checkProvider(name, provider, env, timeoutMs ?? Limits.healthTimeoutMs.default)),
    );
    return {
      version,
      positionEncoding: client.encoding,
      configPath: host.runtime.configPath,
      databaseFile: host.runtime.databaseFile,
      defaultProvider: config.defaultProvider,
      checks: perProvider.flat(),
    };
  }),
  // What a chat panel shows and offers: read from the config alone, so it costs no network.
  route(Requests.providers, async (host) => {
    const config = host.runtime.config();
    return {
      defaultProvider: config.defaultProvider,
      providers: Object.entries(config.providers).map(([name, provider]) => ({ name, kind: provider.kind, ...(provider.model ? { model: provider.model } : {}) })),
    };
  }),
];
