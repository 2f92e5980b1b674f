import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js'

/**
 * Pino options for the service. Secrets never reach the log: Fastify's
 * request serializer leaves headers out, and these paths are censored wherever
 * they appear in a logged object (test/unit/server/logging.test.ts reads the output).
 */
export function loggerOptions(
  level: string,
  output: NodeJS.WritableStream | 'pretty' | 'json' = 'json',
): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    ...(typeof output === 'object' ? { stream: output } : {}),
    // For a person at a terminal: pino-pretty, pino's own transport, in a worker thread off the event loop.
    // The redaction below applies first, so pretty lines carry no secret either.
    ...(output === 'pretty'
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.authorization',
        '*.cookie',
        '*.password',
        '*.token',
        '*.watchToken',
      ],
      censor: '[redacted]',
    },
  }
}

type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
/** A pino logger; Fastify's own stand-in (logging off) has no isLevelEnabled. */
type LevelAware = FastifyBaseLogger & { isLevelEnabled(level: string): boolean }

/**
 * A request's logger, made into a pino child only when something is logged at an enabled level.
 * Fastify makes a child per request; with redaction on, pino serialises its bindings through the
 * redactor each time, which cost more than the rest of routing a scan (bench profiles, issue 13),
 * while at the usual levels most requests log nothing.
 */
class DeferredChild {
  private made: FastifyBaseLogger | undefined
  constructor(
    private readonly parent: LevelAware,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}
  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options))
  }
  get level(): string {
    return this.made?.level ?? this.parent.level
  }
  set level(level: string) {
    this.real().level = level
  }
  private write(level: LevelName, args: unknown[]): void {
    if (!this.made && !this.parent.isLevelEnabled(level)) return
    const logger = this.real() as unknown as Record<LevelName, (...args: unknown[]) => void>
    logger[level](...args)
  }
  // Methods, not arrow fields: a request that logs nothing should cost one small object, not nine closures.
  fatal(...args: unknown[]): void {
    this.write('fatal', args)
  }
  error(...args: unknown[]): void {
    this.write('error', args)
  }
  warn(...args: unknown[]): void {
    this.write('warn', args)
  }
  info(...args: unknown[]): void {
    this.write('info', args)
  }
  debug(...args: unknown[]): void {
    this.write('debug', args)
  }
  trace(...args: unknown[]): void {
    this.write('trace', args)
  }
  silent(): void {}
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options)
  }
  isLevelEnabled(level: string): boolean {
    return ((this.made as LevelAware | undefined) ?? this.parent).isLevelEnabled(level)
  }
}

export const deferredChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
) =>
  options.level || typeof (logger as Partial<LevelAware>).isLevelEnabled !== 'function'
    ? logger.child(bindings, options)
    : new DeferredChild(logger as LevelAware, bindings, options)
