import { createHash } from 'node:crypto'
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server'
import { COSEALG, decodeCredentialPublicKey, isoBase64URL } from '@simplewebauthn/server/helpers'
import { LoginError, type Clock, type PasskeyStore, type StoredPasskey, type UserProfile } from '@qr-login/core'
import type { PasskeyConfig } from '../config.js'
import type { Static } from 'typebox'
import type { Passkey } from '@qr-login/wire'

/** Where a WebAuthn ceremony runs: the page's origin, and the host name passkeys are bound to. */
export interface RelyingParty {
  origin: string
  id: string
}

/** A passkey as its owner sees it in the list, never the key itself: the response schema's type. */
export type PasskeyView = Static<typeof Passkey>

export interface PasskeysDeps {
  store: PasskeyStore
  clock: Clock
  config: PasskeyConfig
}

/**
 * The public-key algorithms a passkey may use, asked for at registration and checked at registration
 * and at every use. One explicit list rather than @simplewebauthn's default, which depends on the
 * runtime (Node 24 and later put ML-DSA-44 first): every supported Node verifies every passkey any
 * instance made, so a fleet of mixed Node lines on one store, or a rollback, keeps working.
 * The order is the preference: ES256 is what phones' platform authenticators make.
 */
export const passkeyAlgorithms: readonly number[] = [COSEALG.ES256, COSEALG.EdDSA, COSEALG.RS256]

const registrationKey = (username: string) => `register:${username}`
/** One prompt per login and user: an assertion made for one login cannot approve another. */
const confirmKey = (loginId: string, username: string) => `confirm:${loginId}:${username}`
/** A passkey approval made on one page and spent on the next (a device's confirm, then its interaction). */
const approvalKey = (subject: string, username: string) => `approved:${subject}:${username}`

/**
 * Passkeys on the phone (WebAuthn, with @simplewebauthn/server): adding one, and proving with one
 * that the person approving a sign-in holds it. Every prompt's challenge is kept once, in the store,
 * and taken as its answer is checked, so an answer works once and only where it was asked for.
 */
export class Passkeys implements PasskeyApprovals {
  constructor(private readonly deps: PasskeysDeps) {}

  async registrationOptions(user: UserProfile, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.deps.store.listPasskeys(user.username)
    if (existing.length >= this.deps.config.maxPerUser) throw new LoginError('PASSKEY_LIMIT_REACHED')
    const options = await generateRegistrationOptions({
      rpName: this.deps.config.rpName,
      rpID: rp.id,
      userName: user.username,
      userDisplayName: user.displayName,
      // Stable per user, so adding again on one authenticator replaces rather than piles up; no name in it.
      userID: createHash('sha256').update(`qr-login user:${user.username}`).digest().subarray(0, 16),
      timeout: this.deps.config.challengeTtlMs,
      attestationType: 'none',
      excludeCredentials: existing
        .filter((passkey) => passkey.rpId === rp.id)
        .map(({ id, transports }) => ({ id, transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: [...passkeyAlgorithms],
    })
    await this.deps.store.putChallenge(
      registrationKey(user.username),
      options.challenge,
      this.deps.clock.now() + this.deps.config.challengeTtlMs,
    )
    return options
  }

  async register(
    user: UserProfile,
    response: RegistrationResponseJSON,
    rp: RelyingParty,
    label: string,
  ): Promise<PasskeyView> {
    const challenge = await this.deps.store.takeChallenge(registrationKey(user.username))
    if (!challenge)
      throw new LoginError('PASSKEY_REJECTED', 'The prompt has expired or was answered already; start again')
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: [...passkeyAlgorithms],
    }).catch((error: unknown) => {
      throw new LoginError('PASSKEY_REJECTED', `The new passkey could not be verified: ${(error as Error).message}`)
    })
    if (!verification.verified) throw new LoginError('PASSKEY_REJECTED', 'The new passkey could not be verified')
    const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo
    const passkey: StoredPasskey = {
      id: credential.id,
      publicKey: isoBase64URL.fromBuffer(credential.publicKey),
      counter: credential.counter,
      ...(credential.transports?.length ? { transports: credential.transports } : {}),
      rpId: rp.id,
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
      label,
      createdAt: this.deps.clock.now(),
    }
    const added = await this.deps.store.addPasskey(user.username, passkey, this.deps.config.maxPerUser)
    if (added === 'full') throw new LoginError('PASSKEY_LIMIT_REACHED')
    if (added === 'taken') throw new LoginError('PASSKEY_REJECTED', 'This passkey is registered already')
    return view(passkey)
  }

  async list(user: UserProfile): Promise<PasskeyView[]> {
    return (await this.deps.store.listPasskeys(user.username)).map(view)
  }

  async remove(user: UserProfile, id: string): Promise<void> {
    if (!(await this.deps.store.removePasskey(user.username, id))) throw new LoginError('PASSKEY_NOT_FOUND')
  }

  /** The prompt for approving one login; the caller has checked that this user may confirm it now. */
  async confirmOptions(
    loginId: string,
    user: UserProfile,
    rp: RelyingParty,
    loginExpiresAt: number,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const usable = (await this.deps.store.listPasskeys(user.username)).filter((passkey) => passkey.rpId === rp.id)
    if (usable.length === 0)
      throw new LoginError('NO_PASSKEY', `Add a passkey in the settings first (none of yours works on ${rp.id})`)
    const options = await generateAuthenticationOptions({
      rpID: rp.id,
      allowCredentials: usable.map(({ id, transports }) => ({ id, transports })),
      userVerification: 'required',
      timeout: this.deps.config.challengeTtlMs,
    })
    const keepUntil = Math.min(loginExpiresAt, this.deps.clock.now() + this.deps.config.challengeTtlMs)
    await this.deps.store.putChallenge(confirmKey(loginId, user.username), options.challenge, keepUntil)
    return options
  }

  /** Checks an answer to this login's prompt, made by one of this user's passkeys with user verification; spends the prompt. */
  async verifyConfirm(
    loginId: string,
    user: UserProfile,
    response: AuthenticationResponseJSON,
    rp: RelyingParty,
  ): Promise<void> {
    const challenge = await this.deps.store.takeChallenge(confirmKey(loginId, user.username))
    if (!challenge)
      throw new LoginError(
        'PASSKEY_REJECTED',
        'No passkey prompt is open for this sign-in (expired or answered already)',
      )
    const passkey = (await this.deps.store.listPasskeys(user.username)).find((each) => each.id === response.id)
    if (!passkey) throw new LoginError('PASSKEY_REJECTED', 'That passkey is not one of yours')
    const algorithm = algorithmOf(passkey)
    if (algorithm !== undefined && !passkeyAlgorithms.includes(algorithm))
      throw new LoginError(
        'PASSKEY_REJECTED',
        'That passkey uses an algorithm this service does not accept; add it again',
      )
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: passkey.rpId,
      credential: {
        id: passkey.id,
        publicKey: isoBase64URL.toBuffer(passkey.publicKey),
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: true,
    }).catch((error: unknown) => {
      throw new LoginError('PASSKEY_REJECTED', `The passkey could not be verified: ${(error as Error).message}`)
    })
    if (!verification.verified) throw new LoginError('PASSKEY_REJECTED')
    await this.deps.store.recordPasskeyUse(
      user.username,
      passkey.id,
      verification.authenticationInfo.newCounter,
      this.deps.clock.now(),
    )
  }

  async rememberApproval(subject: string, user: UserProfile, keepUntil: number): Promise<void> {
    await this.deps.store.putChallenge(approvalKey(subject, user.username), 'passkey', keepUntil)
  }

  async takeApproval(subject: string, user: UserProfile): Promise<boolean> {
    return (await this.deps.store.takeChallenge(approvalKey(subject, user.username))) === 'passkey'
  }

  /** Whether the user holds any passkey (on whatever host it was added). */
  async hasAny(user: UserProfile): Promise<boolean> {
    return (await this.deps.store.listPasskeys(user.username)).length > 0
  }
}

/** The device grant's side: its confirm screen checks the passkey, the interaction that follows spends it. */
export interface PasskeyApprovals {
  /** Remembers that `user` answered a passkey prompt for `subject` (a device code), until `keepUntil`. */
  rememberApproval(subject: string, user: UserProfile, keepUntil: number): Promise<void>
  /** Whether `user` did, once: a second call says no. */
  takeApproval(subject: string, user: UserProfile): Promise<boolean>
}

const coseAlgorithmLabel = 3 // COSE_Key's "alg" (RFC 9052, section 7.1); the library keeps its label table private

/**
 * The COSE algorithm of a stored public key: one kept from before the list was explicit may have another.
 * Undefined when the key does not decode; the verification then refuses it with its own reason.
 */
function algorithmOf(passkey: StoredPasskey): number | undefined {
  try {
    const key = decodeCredentialPublicKey(isoBase64URL.toBuffer(passkey.publicKey)) as unknown as Map<number, unknown>
    const algorithm = key.get(coseAlgorithmLabel)
    return typeof algorithm === 'number' ? algorithm : undefined
  } catch {
    return undefined
  }
}

function view(passkey: StoredPasskey): PasskeyView {
  return {
    id: passkey.id,
    label: passkey.label,
    rpId: passkey.rpId,
    backedUp: passkey.backedUp,
    createdAt: new Date(passkey.createdAt).toISOString(),
    ...(passkey.lastUsedAt ? { lastUsedAt: new Date(passkey.lastUsedAt).toISOString() } : {}),
  }
}
