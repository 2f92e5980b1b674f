import t from 'tap'
import Fastify, { type FastifyPluginAsync } from 'fastify'
import errorHandling from '../../../apps/server/src/plugins/error-handling.js'
import limits from '../../../apps/server/src/plugins/limits.js'
import watchStreams from '../../../apps/server/src/plugins/watch-streams.js'
import metricsRoute from '../../../apps/server/src/plugins/metrics.js'
import healthRoutes from '../../../apps/server/src/routes/health.js'
import pcRoutes from '../../../apps/server/src/routes/pc.js'
import phoneRoutes from '../../../apps/server/src/routes/phone.js'
import passkeyRoutes from '../../../apps/server/src/routes/passkeys.js'
import pageRoutes from '../../../apps/server/src/routes/pages.js'
import oidcRoutes from '../../../apps/server/src/routes/oidc.js'
import { watchTransports } from '../../../apps/server/src/transports/index.js'

/**
 * Each plugin names what it needs (fastify-plugin's name and dependencies), so app.ts's list in a wrong
 * order fails at start, naming the plugin and what it lacks, instead of a decorator being undefined on a
 * request. Registered alone, every one of them says so.
 */
const needs: [string, FastifyPluginAsync, string][] = [
  ['error-handling', errorHandling, 'services'],
  ['limits', limits as FastifyPluginAsync, 'services'],
  ['watch-streams', watchStreams, 'services'],
  ['metrics-route', metricsRoute, 'services'],
  ['health-routes', healthRoutes, 'services'],
  ['pc-routes', pcRoutes, 'services'],
  ['phone-routes', phoneRoutes, 'services'],
  ['passkey-routes', passkeyRoutes, 'services'],
  ['page-routes', pageRoutes, 'services'],
  ['oidc-routes', oidcRoutes, 'services'],
  ...watchTransports.map(({ name, plugin }): [string, FastifyPluginAsync, string] => [
    `${name}-transport`,
    plugin,
    'watch-streams',
  ]),
]

for (const [name, plugin, dependency] of needs) {
  t.test(`${name} refuses to load without ${dependency}`, async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(
      async () => {
        await app.register(plugin)
        await app.ready()
      },
      {
        code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED',
        message: `The dependency '${dependency}' of plugin '${name}' is not registered`,
      },
    )
  })
}
