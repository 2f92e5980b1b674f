import type { Test } from 'tap'
import type { KeyStore } from '@qr-login/core'

/** What every KeyStore must do. Run by one test file per backend, each `open()` on storage of its own. */
export interface KeyStoreUnderTest {
  keys: KeyStore
  /** The same storage opened again, as a second instance or the restarted service would. */
  reopen(): Promise<KeyStore>
}

export function keyStoreContract(t: Test, open: () => Promise<KeyStoreUnderTest>) {
  t.test('nothing is kept at first; the first key set kept is the one every later reader gets', async (t) => {
    const { keys, reopen } = await open()
    t.equal(await keys.read(), undefined)
    t.equal(await keys.keepFirst('{"first":true}'), '{"first":true}')
    t.equal(await keys.keepFirst('{"second":true}'), '{"first":true}', 'a later writer is handed the kept one')
    t.equal(await keys.read(), '{"first":true}')
    t.equal(await (await reopen()).read(), '{"first":true}', 'and so is another instance, or the next start')
  })

  t.test('of instances racing to keep their own key set, every one ends up with the same', async (t) => {
    const { keys, reopen } = await open()
    const others = await Promise.all([reopen(), reopen(), reopen()])
    const kept = await Promise.all([keys, ...others].map((each, index) => each.keepFirst(`{"made by":${index}}`)))
    t.equal(new Set(kept).size, 1, `all agree: ${kept.join(', ')}`)
    t.equal(await keys.read(), kept[0])
  })
}
