import { X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import selfsigned from 'selfsigned'
import type { Config } from '../config.js'
import { lanIPv4 } from './lan.js'

export interface TlsMaterial {
  key: string
  cert: string
}

const validDays = 365
const renewBeforeMs = 7 * 24 * 3600 * 1000

/** The names a phone or this PC may use to reach the service. */
function hostNames(config: Config): string[] {
  return [
    ...new Set(
      [new URL(config.publicUrl).hostname, 'localhost', '127.0.0.1', lanIPv4()].filter((h): h is string => Boolean(h)),
    ),
  ].sort()
}

function covers(cert: string, hosts: string[]): boolean {
  const x509 = new X509Certificate(cert)
  if (Date.parse(x509.validTo) - Date.now() < renewBeforeMs) return false
  return hosts.every((host) => (isIP(host) ? x509.checkIP(host) : x509.checkHost(host)) !== undefined)
}

/**
 * The certificate for HTTPS mode: yours (TLS_CERT_FILE, TLS_KEY_FILE), or a
 * self-signed one made once and kept in CERT_DIR, so a phone that accepted it
 * keeps accepting it across restarts. Made again when the names change or it nears expiry.
 */
export async function tlsMaterial(config: Config): Promise<TlsMaterial | undefined> {
  if (!config.https) return undefined
  if (config.tlsCertFile && config.tlsKeyFile) {
    return { cert: readFileSync(config.tlsCertFile, 'utf8'), key: readFileSync(config.tlsKeyFile, 'utf8') }
  }
  const hosts = hostNames(config)
  const certFile = join(config.certDir, 'self-signed-cert.pem')
  const keyFile = join(config.certDir, 'self-signed-key.pem')
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8')
    if (covers(cert, hosts)) return { cert, key: readFileSync(keyFile, 'utf8') }
  }
  const notBeforeDate = new Date()
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'QR scan-to-login (self-signed)' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + validDays * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: hosts.map((host) => (isIP(host) ? { type: 7, ip: host } : { type: 2, value: host })),
      },
    ],
  })
  mkdirSync(config.certDir, { recursive: true, mode: 0o700 })
  writeFileSync(certFile, pems.cert)
  writeFileSync(keyFile, pems.private, { mode: 0o600 })
  return { cert: pems.cert, key: pems.private }
}
