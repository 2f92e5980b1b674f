import cluster from 'node:cluster'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { loggerOptions } from './logging.js'
import { runPrimary } from './primary.js'

/** Process concerns only: configuration, logging, workers, listening, graceful shutdown. */

const shutdownGraceMs = 10_000

function loadConfigOrExit(): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`)
      process.exit(1)
    }
    throw error
  }
}

function announce(config: Config, port: number): void {
  const scheme = config.https ? 'https' : 'http'
  const lines = [
    '',
    'QR scan-to-login is running',
    `  On this PC:        ${scheme}://localhost:${port}/`,
    `  Phones (in the QR): ${config.publicUrl}/`,
    `  API reference:     ${scheme}://localhost:${port}/docs`,
    `  OpenID provider:   ${config.publicUrl}/oidc/.well-known/openid-configuration`,
    `  Store:             ${config.store}`,
    ...(config.workers > 1 ? [`  Workers:           ${config.workers} processes on this port`] : []),
    ...(config.https && !config.tlsCertFile
      ? [`  HTTPS:             self-signed certificate in ${config.certDir}/ (accept it once on the phone)`]
      : []),
    '',
  ]
  process.stdout.write(lines.join('\n') + '\n')
}

const config = loadConfigOrExit()
if (cluster.isPrimary && config.workers > 1) {
  await runPrimary(config, shutdownGraceMs, (port) => announce(config, port))
} else {
  await serve(config)
}

async function serve(config: Config): Promise<void> {
  // LOG_FORMAT=auto: readable lines on a terminal, JSON lines for a log collector.
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY)
  const app = await buildApp(config, {}, loggerOptions(config.logLevel, pretty ? 'pretty' : 'json')).catch(
    (error: unknown) => {
      // What can only be checked against the store (REDIS_REQUIRE_DURABLE): said as a setting's error is.
      if (!(error instanceof ConfigError)) throw error
      console.error(`Cannot start: ${error.message}`)
      process.exit(1)
    },
  )

  let closing = false
  async function shutdown(signal: string) {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    const force = setTimeout(() => {
      app.log.error('graceful shutdown took too long, exiting')
      process.exit(1)
    }, shutdownGraceMs)
    force.unref()
    await app.close()
    process.exit(0)
  }
  // For `npm run bench`: started with --expose-gc, a SIGUSR2 collects garbage so memory can be read after GC.
  const collectGarbage = (globalThis as { gc?: () => void }).gc
  if (collectGarbage) {
    process.on('SIGUSR2', () => {
      collectGarbage()
      collectGarbage()
      process.stdout.write('gc:done\n')
    })
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
  process.once('SIGINT', () => void shutdown('SIGINT'))

  try {
    await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog })
  } catch (error) {
    app.log.fatal({ err: error }, 'could not start')
    process.exit(1)
  }
  // Under WORKERS the primary says it once every worker listens.
  if (cluster.isWorker) return
  const address = app.server.address()
  announce(config, typeof address === 'object' && address ? address.port : config.port)
}
