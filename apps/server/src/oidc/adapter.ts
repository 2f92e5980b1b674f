import type { Adapter, AdapterPayload } from 'oidc-provider'
import type { OidcArtefactStore } from '@qr-login/core'

/**
 * oidc-provider's storage adapter over our artefact store (memory, or Redis with STORE=redis):
 * one instance per model, as oidc-provider makes them.
 */
export function artefactAdapter(store: OidcArtefactStore) {
  return class ArtefactAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      // A device code outlives its expiry for a while, so a device still polling hears expired_token
      // (RFC 8628 §3.5) rather than invalid_grant; the provider itself refuses it once expired.
      const keep = this.kind === 'DeviceCode' && expiresIn ? expiresIn + Math.max(60, expiresIn) : expiresIn
      await store.upsert(this.kind, id, payload, keep || undefined)
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return await store.find(this.kind, id)
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return await store.findByUserCode(this.kind, userCode)
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return await store.findByUid(this.kind, uid)
    }

    async consume(id: string): Promise<void> {
      await store.consume(this.kind, id)
    }

    async destroy(id: string): Promise<void> {
      await store.destroy(this.kind, id)
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.revokeByGrantId(grantId)
    }
  }
}
