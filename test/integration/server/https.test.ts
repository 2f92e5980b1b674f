import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '@qr-login/server'
import { loadConfig } from '../../../apps/server/src/config.js'

function post(
  url: string,
): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string; cert: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', rejectUnauthorized: false }, (res) => {
      let body = ''
      const peer = (res.socket as unknown as { getPeerX509Certificate(): X509Certificate }).getPeerX509Certificate()
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      res.on('end', () => {
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body, cert: peer })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('HTTPS mode serves TLS with a self-signed certificate kept across restarts, and Secure cookies', async (t) => {
  const certDir = mkdtempSync(join(tmpdir(), 'qr-certs-'))
  const env = {
    HTTPS: '1',
    CERT_DIR: certDir,
    DATA_DIR: join(certDir, 'data'),
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'https://192.0.2.77:3443',
  }

  const first = await buildApp(loadConfig(env))
  t.teardown(() => first.close())
  await first.listen({ port: 0, host: '127.0.0.1' })
  const port = (first.server.address() as { port: number }).port
  const response = await post(`https://127.0.0.1:${port}/api/qr`)
  t.equal(response.statusCode, 201)
  const login = JSON.parse(response.body)
  t.match(login.scanUrl, /^https:\/\/192\.0\.2\.77:3443\/m\//)
  const cookie = String((response.headers['set-cookie'] as string[]).find((c) => c.startsWith('qr_watch=')))
  t.match(cookie, /; Secure/, 'cookies are Secure under HTTPS')
  t.ok(response.cert.checkIP('127.0.0.1'), 'the certificate names 127.0.0.1')
  t.ok(response.cert.checkIP('192.0.2.77'), 'and the PUBLIC_URL host')
  t.ok(response.cert.checkHost('localhost'))
  await first.close()

  const second = await buildApp(loadConfig(env))
  t.teardown(() => second.close())
  await second.listen({ port: 0, host: '127.0.0.1' })
  const again = await post(`https://127.0.0.1:${(second.server.address() as { port: number }).port}/api/qr`)
  t.equal(again.cert.fingerprint256, response.cert.fingerprint256, 'the same certificate after a restart')
  t.equal(
    new X509Certificate(readFileSync(join(certDir, 'self-signed-cert.pem'))).fingerprint256,
    response.cert.fingerprint256,
  )
})

t.test('PUBLIC_URL defaults to https in HTTPS mode; half a certificate pair is refused', async (t) => {
  t.match(loadConfig({ HTTPS: '1' }).publicUrl, /^https:\/\//)
  t.throws(() => loadConfig({ TLS_CERT_FILE: '/tmp/cert.pem' }), { name: 'ConfigError', message: /TLS_KEY_FILE/ })
  t.throws(() => loadConfig({ HTTPS: 'maybe' }), { name: 'ConfigError', message: /HTTPS/ })
})
