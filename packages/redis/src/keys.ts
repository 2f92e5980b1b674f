/**
 * Key names. The part in braces is the Redis Cluster hash tag: everything of
 * one login lives in one slot, so its Lua scripts stay single-slot.
 */
export const keys = {
  login: (prefix: string, id: string) => `${prefix}login:{${id}}`,
  session: (prefix: string, tokenHash: string) => `${prefix}session:{${tokenHash}}`,
  /** The token hashes of one user's sessions (entries may outlive their session: readers skip and prune them). */
  userSessions: (prefix: string, username: string) => `${prefix}user-sessions:{${username}}`,
  /** A user's sign-in history: a list, newest first, trimmed to historyLimit, living as long as its newest entry. */
  history: (prefix: string, username: string) => `${prefix}history:{${username}}`,
  /** A user code → the login it was reserved for (its own slot: reserved before the login is inserted). */
  userCode: (prefix: string, code: string) => `${prefix}user-code:{${code}}`,
  /** A user's passkeys: a hash, credential id → the passkey as JSON (account data: no TTL). */
  passkeys: (prefix: string, username: string) => `${prefix}passkeys:{${username}}`,
  /** A user's passkey uses, credential id → "counter:at" (the same slot as passkeys, so one script updates both). */
  passkeyUses: (prefix: string, username: string) => `${prefix}passkey-uses:{${username}}`,
  /** A credential id → its owner, so an id is registered once across every user. */
  passkeyOwner: (prefix: string, credentialId: string) => `${prefix}passkey-owner:{${credentialId}}`,
  /** A one-time WebAuthn challenge, under its purpose (a registration, or a login's confirm). */
  challenge: (prefix: string, key: string) => `${prefix}challenge:{${key}}`,
  /** An OIDC artefact (interaction, code, session, grant, token…): a hash, p = the payload as JSON, c = consumed at. */
  oidcArtefact: (prefix: string, kind: string, id: string) => `${prefix}oidc:{${kind}:${id}}`,
  /** The keys of a grant's artefacts, so revoking the grant destroys them all. */
  oidcGrant: (prefix: string, grantId: string) => `${prefix}oidc-grant:{${grantId}}`,
  /** A device user code, or a session uid → the id of the artefact it names. */
  oidcIndex: (prefix: string, kind: string, index: 'code' | 'uid', value: string) =>
    `${prefix}oidc-${index}:{${kind}:${value}}`,
  /**
   * Logins not yet ended, scored by expiresAt: what MAX_LIVE_LOGINS counts across every instance.
   * Split over `parts` keys on a cluster, each hash-tagged into a slot of its own, so no one master
   * carries every login's index writes.
   */
  liveLogins: (prefix: string, part = 0, parts = 1) => (parts === 1 ? `${prefix}live` : `${prefix}live:{${part}}`),
  /** One channel for every status change; each instance keeps only what its own watchers want. */
  statusChannel: (prefix: string) => `${prefix}status`,
  /** On a cluster, one sharded channel per login, in its login's slot: only the shard that owns it carries it. */
  loginStatusChannel: (prefix: string, id: string) => `${prefix}status:{${id}}`,
}
