import fp from 'fastify-plugin'
import { WatchStreams } from '../lib/watch-stream.js'

declare module 'fastify' {
  interface FastifyInstance {
    watchStreams: WatchStreams
  }
}

/** The one watch lifecycle every transport opens its watches through (lib/watch-stream.ts). */
export default fp(
  async function watchStreams(app) {
    const { logins, live, clock, limits, metrics } = app
    app.decorate(
      'watchStreams',
      new WatchStreams({ logins, live, clock, admit: limits.admitWatcher, delivered: metrics.delivered }),
    )
  },
  { name: 'watch-streams', dependencies: ['services', 'limits'] },
)
