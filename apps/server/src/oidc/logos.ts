import { createHash } from 'node:crypto'
import type { OidcClient } from './clients.js'

/**
 * Applications' logos (RFC 7591 logo_uri), served from this service's own origin so the pages' policy
 * stays `img-src 'self'`: each is fetched once, when the service starts, and kept in memory. A logo that
 * cannot be fetched, is larger than maxLogoBytes or is not an image (by its bytes, not by what the other
 * server says) is left out with a warning; the app is then named without one. Nothing here stops the start
 * or holds up a page.
 */

export const maxLogoBytes = 256 * 1024
const fetchTimeoutMs = 5000

export interface AppLogo {
  contentType: string
  body: Buffer
}

interface Warn {
  warn(details: object, message: string): void
}

/** What the bytes are, whatever the other server called them; undefined for anything that is not an image. */
export function imageType(body: Buffer): string | undefined {
  if (body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png'
  if (body[0] === 0xff && body[1] === 0xd8 && body[2] === 0xff) return 'image/jpeg'
  if (/^GIF8[79]a/.test(body.subarray(0, 6).toString('latin1'))) return 'image/gif'
  if (body.subarray(0, 4).toString('latin1') === 'RIFF' && body.subarray(8, 12).toString('latin1') === 'WEBP')
    return 'image/webp'
  const text = body
    .subarray(0, 1024)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(text))
    return 'image/svg+xml'
  return undefined
}

/** The response body, refused once it passes `limit` bytes (a Content-Length is not trusted). */
async function boundedBody(response: Response, limit: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length'))
  if (declared > limit) throw new Error(`it is ${declared} bytes, more than ${limit}`)
  const chunks: Buffer[] = []
  let size = 0
  if (!response.body) return Buffer.alloc(0)
  const reader = response.body.getReader()
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new Error(`it is more than ${limit} bytes`)
    }
    chunks.push(Buffer.from(read.value))
  }
  return Buffer.concat(chunks)
}

export class AppLogos {
  private readonly byKey = new Map<string, AppLogo>()
  private readonly keyOf = new Map<string, string>()
  /** Settles once every logo has been fetched or left out. */
  readonly ready: Promise<void>

  constructor(clients: OidcClient[], log: Warn, fetcher: typeof fetch = fetch) {
    this.ready = Promise.all(
      clients
        .filter((client) => typeof client.logo_uri === 'string')
        .map((client) => this.load(client.client_id, client.logo_uri as string, log, fetcher)),
    ).then(() => undefined)
  }

  /** Where a page finds the app's logo (a path on this service), or undefined without one. */
  pathOf(clientId: string): string | undefined {
    const key = this.keyOf.get(clientId)
    return key ? `/app-logos/${key}` : undefined
  }

  byPath(key: string): AppLogo | undefined {
    return this.byKey.get(key)
  }

  private async load(clientId: string, uri: string, log: Warn, fetcher: typeof fetch): Promise<void> {
    try {
      const url = new URL(uri)
      if (!['https:', 'http:'].includes(url.protocol)) throw new Error('only http(s) URLs are fetched')
      const response = await fetcher(url, { redirect: 'follow', signal: AbortSignal.timeout(fetchTimeoutMs) })
      if (!response.ok) throw new Error(`the answer was ${response.status}`)
      const body = await boundedBody(response, maxLogoBytes)
      const contentType = imageType(body)
      if (!contentType) throw new Error('it is not a PNG, JPEG, GIF, WebP or SVG image')
      // A name that says nothing about the client, and changes when the logo does (it may be cached long).
      const key = createHash('sha256').update(clientId).update('\0').update(body).digest('base64url').slice(0, 22)
      this.byKey.set(key, { contentType, body })
      this.keyOf.set(clientId, key)
    } catch (error) {
      log.warn(
        { clientId, logoUri: uri.slice(0, 200), reason: (error as Error).message },
        'an application logo was left out',
      )
    }
  }
}
