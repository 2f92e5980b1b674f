import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, generateKeyPair } from 'jose'
import { buildApp } from '@qr-login/server'
import { loadConfig } from '../../../apps/server/src/config.js'
import { cleanUpPrefix, uniquePrefix } from '../../helpers/redis.js'

const jwksOf = async (env: Record<string, string>, keysFile?: string) => {
  const config = loadConfig({ PUBLIC_URL: 'http://qr.test:3000', LOG_LEVEL: 'silent', ...env })
  if (keysFile) config.oidc.keysFile = keysFile
  const app = await buildApp(config)
  try {
    const response = await app.inject({ method: 'GET', url: '/oidc/jwks', headers: { host: 'qr.test:3000' } })
    t.equal(response.statusCode, 200)
    return response.json<{ keys: { kid: string; kty: string; d?: string }[] }>()
  } finally {
    await app.close()
  }
}

t.test(
  'memory store: the signing key is made once, kept in a private file, and the same after a restart',
  async (t) => {
    const keysFile = join(mkdtempSync(join(tmpdir(), 'qr-keys-')), 'nested', 'keys.json')
    const first = await jwksOf({ STORE: 'memory' }, keysFile)
    t.equal(first.keys.length, 1)
    t.equal(first.keys[0].kty, 'RSA')
    t.notOk(first.keys[0].d, 'only the public half is published')
    t.equal(statSync(keysFile).mode & 0o777, 0o600, 'the file is readable by its owner only')
    t.same(await jwksOf({ STORE: 'memory' }, keysFile), first, 'a restarted service signs with the same key')
  },
)

t.test('sqlite (the default): the signing key is kept in the database, and the same after a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qr-keys-'))
  const env = { DATA_DIR: join(dir, 'data') }
  const keysFile = join(dir, '.oidc', 'keys.json')
  const first = await jwksOf(env, keysFile)
  t.equal(first.keys.length, 1)
  t.notOk(existsSync(keysFile), 'no key file is written: the database holds the keys')
  t.same(await jwksOf(env, keysFile), first, 'a restarted service signs with the same key')
})

t.test(
  'sqlite: the .oidc/keys.json an earlier version wrote is taken over once, so tokens keep verifying',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'qr-keys-'))
    const keysFile = join(dir, '.oidc', 'keys.json')
    const before = await jwksOf({ STORE: 'memory' }, keysFile)
    const env = { DATA_DIR: join(dir, 'data') }
    t.same(await jwksOf(env, keysFile), before, 'the database starts with the file’s key')
    rmSync(keysFile)
    t.same(await jwksOf(env, keysFile), before, 'and keeps it once the file is gone')
    const other = join(dir, 'other', 'keys.json')
    await jwksOf({ STORE: 'memory' }, other)
    t.same(await jwksOf(env, other), before, 'a key file seen later changes nothing: taken over once')
  },
)

t.test('OIDC_KEYS_FILE: the operator’s keys are used and never written; a bad file stops the start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qr-keys-'))
  const file = join(dir, 'operator.json')
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: 'operator-key-1', alg: 'ES256', use: 'sig' }
  writeFileSync(file, JSON.stringify({ keys: [jwk] }))
  const before = readFileSync(file, 'utf8')
  const published = await jwksOf({ OIDC_KEYS_FILE: file })
  t.same(
    published.keys.map((key) => key.kid),
    ['operator-key-1'],
  )
  t.equal(readFileSync(file, 'utf8'), before)

  writeFileSync(join(dir, 'public.json'), JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] }))
  for (const [name, content] of [
    ['missing.json', undefined],
    ['broken.json', '{ not json'],
    ['public.json', undefined],
  ] as const) {
    if (content !== undefined) writeFileSync(join(dir, name), content)
    t.throws(() => loadConfig({ OIDC_KEYS_FILE: join(dir, name) }), /OIDC_KEYS_FILE/, name)
  }
})

t.test('OIDC_CLIENTS_FILE that is not a list of clients stops the start, naming the variable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qr-clients-'))
  const cases: [string, string, RegExp][] = [
    ['not json', '{', /OIDC_CLIENTS_FILE: cannot read/],
    ['an object', '{"client_id":"a"}', /non-empty JSON array/],
    ['empty', '[]', /non-empty JSON array/],
    ['no id', '[{"client_name":"x"}]', /entry 0: client_id/],
    ['twice', '[{"client_id":"a"},{"client_id":"a"}]', /entry 1: client_id "a" is listed twice/],
    ['bad uris', '[{"client_id":"a","redirect_uris":"http://x"}]', /redirect_uris must be an array of strings/],
  ]
  for (const [label, content, message] of cases) {
    const file = join(dir, `${label.replace(/ /g, '-')}.json`)
    writeFileSync(file, content)
    t.throws(() => loadConfig({ OIDC_CLIENTS_FILE: file }), message, label)
  }
  t.throws(() => loadConfig({ OIDC_CLIENTS_FILE: join(dir, 'absent.json') }), /OIDC_CLIENTS_FILE/)
  t.throws(() => loadConfig({ DEVICE_CODE_TTL_SECONDS: '0' }), /DEVICE_CODE_TTL_SECONDS/)
})

t.test('STORE=redis: every instance signs with the key the first one made', async (t) => {
  const prefix = uniquePrefix('oidc-keys')
  cleanUpPrefix(t, prefix)
  const env = { STORE: 'redis', REDIS_PREFIX: prefix }
  const [a, b] = await Promise.all([jwksOf(env), jwksOf(env)])
  t.same(a, b)
  t.same(await jwksOf(env), a, 'and after a restart')
})
