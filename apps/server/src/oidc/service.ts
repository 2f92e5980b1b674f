import type Provider from 'oidc-provider'
import { formatUserCode, type KeyStore, type LoginService, type OidcArtefactStore } from '@qr-login/core'
import type { Config } from '../config.js'
import { providerKeys } from './keys.js'
import { createProvider, type OidcDeps } from './provider.js'

/**
 * The OpenID provider, made on first use: its keys live in the store, which (Redis) may not be up when
 * the service starts. Until they are loaded, /oidc answers 503, and the next request tries again.
 */
export class OidcService {
  private made?: Promise<Provider>

  constructor(
    private readonly deps: {
      config: Config
      clock: OidcDeps['clock']
      logins: LoginService
      store: OidcArtefactStore
      keys: KeyStore
      passkeys: OidcDeps['passkeys']
      logos: OidcDeps['logos']
    },
  ) {}

  provider(): Promise<Provider> {
    this.made ??= (async () => {
      const { config, clock, logins, store, passkeys, logos } = this.deps
      const keys = await providerKeys(config.oidc, this.deps.keys)
      return createProvider({ config, clock, logins, store, keys, passkeys, logos })
    })().catch((error: unknown) => {
      this.made = undefined
      throw error
    })
    return this.made
  }

  /**
   * Where a phone confirms a device's sign-in (RFC 8628 verification_uri_complete), for a user code
   * typed on its home page while the device waits; undefined for any other code.
   */
  async deviceConfirmUrl(userCode: string): Promise<string | undefined> {
    if (!(await this.waitingDevice(userCode))) return undefined
    return `${this.deps.config.publicUrl}/oidc/device?user_code=${formatUserCode(userCode)}`
  }

  /** A device's authorization that waits for a phone to decide, by its user code: its id and when it ends. */
  async waitingDevice(userCode: string): Promise<{ id: string; expiresAt: number } | undefined> {
    const provider = await this.provider()
    const code = await provider.DeviceCode.findByUserCode(userCode)
    if (!code || code.accountId || code.error || code.inFlight || !code.jti || !code.exp) return undefined
    return { id: code.jti, expiresAt: code.exp * 1000 }
  }
}
