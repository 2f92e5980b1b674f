import type { FastifyServerOptions } from 'fastify'

/**
 * Pino options for the service. Secrets never reach the log: Fastify's
 * request serializer leaves headers out, and these paths are censored wherever
 * they appear in a logged object (test/server/logging.test.ts reads the output).
 */
export function loggerOptions(
  level: string,
  stream?: NodeJS.WritableStream,
): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    ...(stream ? { stream } : {}),
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
