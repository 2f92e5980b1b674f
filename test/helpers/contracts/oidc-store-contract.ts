import type { Test } from 'tap'
import type { OidcArtefactStore } from '@qr-login/core'

/** What every OidcArtefactStore must do (oidc-provider's adapter contract). Run by one test file per store. */
export interface OidcStoreUnderTest {
  store: OidcArtefactStore
  /** Moves time past `ms`, so artefacts whose time has passed are gone. */
  letTimePass(ms: number): Promise<void>
}

let counter = 0
const unique = (label: string) => `${label}-${process.pid}-${counter++}`

export function oidcStoreContract(t: Test, open: () => Promise<OidcStoreUnderTest>) {
  t.test('an artefact is found by kind and id as written; rewriting replaces it; destroying forgets it', async (t) => {
    const { store } = await open()
    const id = unique('code')
    const payload = { jti: id, kind: 'AuthorizationCode', scope: 'openid profile', claims: { rejected: [] }, exp: 1 }
    await store.upsert('AuthorizationCode', id, payload, 60)
    t.same(await store.find('AuthorizationCode', id), payload)
    t.equal(await store.find('AccessToken', id), undefined, 'kinds do not mix')
    await store.upsert('AuthorizationCode', id, { ...payload, scope: 'openid' }, 60)
    t.equal((await store.find('AuthorizationCode', id))?.scope, 'openid')
    await store.destroy('AuthorizationCode', id)
    t.equal(await store.find('AuthorizationCode', id), undefined)
  })

  t.test('consuming keeps the artefact, marked with when; nothing comes back that was not there', async (t) => {
    const { store } = await open()
    const id = unique('code')
    await store.upsert('AuthorizationCode', id, { jti: id }, 60)
    t.notOk((await store.find('AuthorizationCode', id))?.consumed)
    await store.consume('AuthorizationCode', id)
    const consumed = await store.find('AuthorizationCode', id)
    t.type(consumed?.consumed, 'number')
    t.ok(Number(consumed?.consumed) > 1_700_000_000, 'a time in seconds')
    await store.consume('AuthorizationCode', unique('never'))
    t.equal(await store.find('AuthorizationCode', unique('never')), undefined)
  })

  t.test('each artefact is gone once its time has passed; one without expiry stays', async (t) => {
    const { store, letTimePass } = await open()
    const brief = unique('interaction')
    const lasting = unique('client')
    await store.upsert('Interaction', brief, { jti: brief }, 1)
    await store.upsert('Client', lasting, { client_id: lasting })
    await letTimePass(1100)
    t.equal(await store.find('Interaction', brief), undefined)
    t.same(await store.find('Client', lasting), { client_id: lasting })
  })

  t.test('revoking a grant destroys its codes and tokens, and nothing of another grant', async (t) => {
    const { store } = await open()
    const grantId = unique('grant')
    const other = unique('grant')
    const code = unique('code')
    const access = unique('at')
    const refresh = unique('rt')
    const kept = unique('at')
    await store.upsert('AuthorizationCode', code, { grantId }, 60)
    await store.upsert('AccessToken', access, { grantId }, 3600)
    await store.upsert('RefreshToken', refresh, { grantId })
    await store.upsert('AccessToken', kept, { grantId: other }, 3600)
    await store.upsert('Grant', grantId, { jti: grantId, accountId: 'alice' }, 3600)
    await store.revokeByGrantId(grantId)
    t.equal(await store.find('AuthorizationCode', code), undefined)
    t.equal(await store.find('AccessToken', access), undefined)
    t.equal(await store.find('RefreshToken', refresh), undefined)
    t.same(await store.find('AccessToken', kept), { grantId: other })
    t.ok(await store.find('Grant', grantId), 'the grant itself is the provider’s to destroy')
  })

  t.test('a device code is found by its user code, a session by its uid, while they last', async (t) => {
    const { store, letTimePass } = await open()
    const deviceCode = unique('dc')
    const userCode = unique('BCDFGHJK')
    await store.upsert('DeviceCode', deviceCode, { jti: deviceCode, userCode }, 1)
    t.same(await store.findByUserCode('DeviceCode', userCode), { jti: deviceCode, userCode })
    t.equal(await store.findByUserCode('DeviceCode', unique('nope')), undefined)
    const session = unique('session')
    const uid = unique('uid')
    await store.upsert('Session', session, { jti: session, uid, accountId: 'alice' }, 3600)
    t.same(await store.findByUid('Session', uid), { jti: session, uid, accountId: 'alice' })
    await store.destroy('Session', session)
    t.equal(await store.findByUid('Session', uid), undefined, 'the index does not outlive its session')
    await letTimePass(1100)
    t.equal(await store.findByUserCode('DeviceCode', userCode), undefined)
  })
}
