import {
  LoginService,
  ManualClock,
  memoryBackend,
  createDemoAccounts,
  cryptoSecrets,
  type LoginRecord,
  type LoginSettings,
  type LoginStatusView,
  type LoginStore,
  type ChangeFeed,
} from '@qr-login/core'

export const settings: LoginSettings = {
  qrTtlMs: 120_000,
  confirmWindowMs: 60_000,
  exchangeWindowMs: 30_000,
  retentionMs: 300_000,
  sessionTtlMs: 3_600_000,
  historyRetentionMs: 3_600_000,
}

/** A bare pending login, as a store holds it, for store tests that need only its id and expiry. */
export function pendingRecord(id: string, expiresAt: number, createdAt = 0): LoginRecord {
  return {
    id,
    status: 'pending',
    version: 1,
    createdAt,
    expiresAt,
    watchTokenHash: 'h',
    requester: { ip: '', userAgent: '', browser: '', os: '', createdAt: '' },
    changeTimes: [createdAt],
  }
}

export const pc = { ip: '192.0.2.10', userAgent: 'test-agent', browser: 'Chrome 131', os: 'Windows 10' }

export function coreFixture(
  overrides: { store?: LoginStore; feed?: ChangeFeed; clock?: ManualClock; settings?: Partial<LoginSettings> } = {},
) {
  const clock = overrides.clock ?? new ManualClock()
  const backend = memoryBackend({ clock })
  /** The login store the service uses: the backend's, or the one given (held up or taken away). */
  const store = overrides.store ?? backend.logins
  const feed = overrides.feed ?? backend.feed
  const accounts = createDemoAccounts()
  const backgroundErrors: unknown[] = []
  const service = new LoginService({
    stores: { ...backend, logins: store },
    feed,
    clock,
    secrets: cryptoSecrets,
    accounts,
    settings: { ...settings, ...overrides.settings },
    onBackgroundError: (error) => backgroundErrors.push(error),
  })
  const alice = accounts.find('alice')!
  const bob = accounts.find('bob')!
  return { clock, backend, store, feed, service, accounts, alice, bob, backgroundErrors }
}

/** Collects what a watch delivers. */
export function recorder() {
  const seen: LoginStatusView[] = []
  return { seen, onStatus: (status: LoginStatusView) => void seen.push(status) }
}
