import { ExpiringMap } from './expiring-map.js'
import { grantBoundKinds, type Clock, type OidcArtefactStore, type OidcPayload } from './ports.js'

interface Kept {
  payload: OidcPayload
  consumed?: number
}

/** An artefact upserted without a lifetime is kept until destroyed or revoked. */
const forever = Number.MAX_SAFE_INTEGER

/** The embedded OIDC artefact store: an ExpiringMap (one timer for every artefact), and the three indexes. */
export class MemoryOidcArtefactStore implements OidcArtefactStore {
  private readonly artefacts: ExpiringMap<Kept>
  /** grantId → keys of its artefacts */
  private readonly byGrant = new Map<string, Set<string>>()
  /** "kind:userCode" or "kind:uid" → the artefact's key */
  private readonly byIndex = new Map<string, string>()

  constructor(private readonly clock: Clock) {
    // A swept artefact takes its index entries with it.
    this.artefacts = new ExpiringMap(clock, { onForget: (key, kept) => this.unindex(key, kept) })
  }

  async upsert(kind: string, id: string, payload: OidcPayload, expiresInSeconds?: number): Promise<void> {
    const key = `${kind}:${id}`
    this.forget(key)
    const keepUntil = expiresInSeconds === undefined ? forever : this.clock.now() + expiresInSeconds * 1000
    this.artefacts.set(key, { payload: structuredClone(payload) }, keepUntil)
    const grantId = payload.grantId
    if (typeof grantId === 'string' && grantBoundKinds.has(kind)) {
      const keys = this.byGrant.get(grantId) ?? new Set<string>()
      keys.add(key)
      this.byGrant.set(grantId, keys)
    }
    if (typeof payload.userCode === 'string') this.byIndex.set(`${kind}:code:${payload.userCode}`, key)
    if (typeof payload.uid === 'string') this.byIndex.set(`${kind}:uid:${payload.uid}`, key)
  }

  async find(kind: string, id: string): Promise<OidcPayload | undefined> {
    return this.read(`${kind}:${id}`)
  }

  async findByUserCode(kind: string, userCode: string): Promise<OidcPayload | undefined> {
    const key = this.byIndex.get(`${kind}:code:${userCode}`)
    return key === undefined ? undefined : this.read(key)
  }

  async findByUid(kind: string, uid: string): Promise<OidcPayload | undefined> {
    const key = this.byIndex.get(`${kind}:uid:${uid}`)
    return key === undefined ? undefined : this.read(key)
  }

  async consume(kind: string, id: string): Promise<void> {
    const kept = this.artefacts.get(`${kind}:${id}`)
    if (kept) kept.consumed = Math.floor(this.clock.now() / 1000)
  }

  async destroy(kind: string, id: string): Promise<void> {
    this.forget(`${kind}:${id}`)
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of this.byGrant.get(grantId) ?? []) this.forget(key)
    this.byGrant.delete(grantId)
  }

  stats() {
    return { artefacts: this.artefacts.size, timers: this.artefacts.timers }
  }

  async close(): Promise<void> {
    this.artefacts.clear()
    this.byGrant.clear()
    this.byIndex.clear()
  }

  private read(key: string): OidcPayload | undefined {
    const kept = this.artefacts.get(key)
    if (!kept) return undefined
    const payload = structuredClone(kept.payload)
    return kept.consumed === undefined ? payload : { ...payload, consumed: kept.consumed }
  }

  private forget(key: string): void {
    const kept = this.artefacts.delete(key)
    if (kept) this.unindex(key, kept)
  }

  private unindex(key: string, kept: Kept): void {
    const kind = key.slice(0, key.indexOf(':'))
    const { grantId, userCode, uid } = kept.payload
    if (typeof grantId === 'string') {
      const keys = this.byGrant.get(grantId)
      keys?.delete(key)
      if (keys?.size === 0) this.byGrant.delete(grantId)
    }
    for (const index of [`${kind}:code:${String(userCode)}`, `${kind}:uid:${String(uid)}`])
      if (this.byIndex.get(index) === key) this.byIndex.delete(index)
  }
}
