import t from 'tap'
import { AppLogos, imageType, maxLogoBytes } from '../../../apps/server/src/oidc/logos.js'

const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)
const svg = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')

t.test('an image is known by its bytes, not by what it is called', async (t) => {
  t.equal(imageType(png), 'image/png')
  t.equal(imageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0])), 'image/jpeg')
  t.equal(imageType(Buffer.from('GIF89a......')), 'image/gif')
  t.equal(imageType(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')])), 'image/webp')
  t.equal(imageType(svg), 'image/svg+xml')
  t.equal(imageType(Buffer.from('<!doctype html><svg></svg>')), undefined, 'an HTML page with an SVG inside is not one')
  t.equal(imageType(Buffer.from('{"not":"an image"}')), undefined)
  t.equal(imageType(Buffer.alloc(0)), undefined)
})

t.test(
  'each logo is fetched once, checked, and served by its own name; a bad one is left out with a warning',
  async (t) => {
    const fetched: string[] = []
    const answers: Record<string, () => Response> = {
      'https://good.example/logo': () => new Response(png, { headers: { 'content-type': 'text/plain' } }),
      'https://svg.example/logo.svg': () => new Response(svg),
      'https://html.example/logo': () =>
        new Response('<!doctype html><p>hi</p>', { headers: { 'content-type': 'image/png' } }),
      'https://big.example/logo': () => new Response(Buffer.concat([png, Buffer.alloc(maxLogoBytes)])),
      'https://gone.example/logo': () => new Response('no', { status: 404 }),
    }
    const fetcher = (async (url: URL | string) => {
      fetched.push(String(url))
      const answer = answers[String(url)]
      if (!answer) throw new TypeError('fetch failed')
      return answer()
    }) as typeof fetch
    const warnings: { clientId: string; reason: string }[] = []
    const log = { warn: (details: object) => warnings.push(details as { clientId: string; reason: string }) }
    const client = (id: string, logo_uri?: string) => ({ client_id: id, ...(logo_uri ? { logo_uri } : {}) })
    const logos = new AppLogos(
      [
        client('good', 'https://good.example/logo'),
        client('svg', 'https://svg.example/logo.svg'),
        client('html', 'https://html.example/logo'),
        client('big', 'https://big.example/logo'),
        client('gone', 'https://gone.example/logo'),
        client('down', 'https://down.example/logo'),
        client('file', 'file:///etc/passwd'),
        client('none'),
      ],
      log,
      fetcher,
    )
    await logos.ready
    t.equal(fetched.length, 6, 'each http(s) logo fetched once; file: never')
    const good = logos.pathOf('good')
    t.match(good, /^\/app-logos\/[\w-]{22}$/)
    t.same(logos.byPath(good!.split('/').pop()!), { contentType: 'image/png', body: png })
    t.equal(logos.byPath(logos.pathOf('svg')!.split('/').pop()!)?.contentType, 'image/svg+xml')
    for (const id of ['html', 'big', 'gone', 'down', 'file', 'none'])
      t.equal(logos.pathOf(id), undefined, `${id}: no logo`)
    t.same(
      warnings.map((warning) => warning.clientId).sort(),
      ['big', 'down', 'file', 'gone', 'html'],
      'a warning for each one left out, naming the client',
    )
    t.match(
      warnings.find((warning) => warning.clientId === 'big'),
      { reason: /more than 262144 bytes/ },
    )
    t.match(
      warnings.find((warning) => warning.clientId === 'html'),
      { reason: /not a PNG, JPEG, GIF, WebP or SVG/ },
    )
  },
)
