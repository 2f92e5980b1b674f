import type { StatementSync } from 'node:sqlite'
import { grantBoundKinds, type Clock, type OidcArtefactStore, type OidcPayload } from '@qr-login/core'
import { guarded, type SqliteDatabase } from './database.js'

interface ArtefactRow {
  payload: string
  consumed: number | null
}

/**
 * The OpenID provider's artefacts in the service's database: one row each, with the columns its
 * three indexes need (grant, device user code, session uid) and its expiry (none: kept until
 * destroyed). A rewrite replaces the row, and with it any earlier consumption, as oidc-provider expects.
 */
export class SqliteOidcArtefactStore implements OidcArtefactStore {
  private readonly statements: Record<string, StatementSync>

  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    const alive = '(keep_until IS NULL OR keep_until > ?)'
    this.statements = database.prepareAll({
      upsert:
        'INSERT OR REPLACE INTO oidc_artefacts (kind, id, payload, consumed, grant_id, user_code, uid, keep_until) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)',
      find: `SELECT payload, consumed FROM oidc_artefacts WHERE kind = ? AND id = ? AND ${alive}`,
      byUserCode: `SELECT payload, consumed FROM oidc_artefacts WHERE kind = ? AND user_code = ? AND ${alive} ORDER BY rowid DESC LIMIT 1`,
      byUid: `SELECT payload, consumed FROM oidc_artefacts WHERE kind = ? AND uid = ? AND ${alive} ORDER BY rowid DESC LIMIT 1`,
      consume: `UPDATE oidc_artefacts SET consumed = ? WHERE kind = ? AND id = ? AND ${alive}`,
      destroy: 'DELETE FROM oidc_artefacts WHERE kind = ? AND id = ?',
      revoke: 'DELETE FROM oidc_artefacts WHERE grant_id = ?',
      count: `SELECT count(*) AS n FROM oidc_artefacts WHERE ${alive}`,
    })
  }

  async upsert(kind: string, id: string, payload: OidcPayload, expiresInSeconds?: number): Promise<void> {
    const text = (value: unknown) => (typeof value === 'string' ? value : null)
    const grantId = grantBoundKinds.has(kind) ? text(payload.grantId) : null
    const keepUntil = expiresInSeconds === undefined ? null : this.clock.now() + expiresInSeconds * 1000
    await this.database.write(() =>
      this.statements.upsert.run(
        kind,
        id,
        JSON.stringify(payload),
        grantId,
        text(payload.userCode),
        text(payload.uid),
        keepUntil,
      ),
    )
  }

  async find(kind: string, id: string): Promise<OidcPayload | undefined> {
    return this.read(this.statements.find, kind, id)
  }

  async findByUserCode(kind: string, userCode: string): Promise<OidcPayload | undefined> {
    return this.read(this.statements.byUserCode, kind, userCode)
  }

  async findByUid(kind: string, uid: string): Promise<OidcPayload | undefined> {
    return this.read(this.statements.byUid, kind, uid)
  }

  async consume(kind: string, id: string): Promise<void> {
    const now = this.clock.now()
    await this.database.write(() => this.statements.consume.run(Math.floor(now / 1000), kind, id, now))
  }

  async destroy(kind: string, id: string): Promise<void> {
    await this.database.write(() => this.statements.destroy.run(kind, id))
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.database.write(() => this.statements.revoke.run(grantId))
  }

  /** Timers are the database's (its one sweep), not this store's. */
  stats() {
    return { artefacts: Number((this.statements.count.get(this.clock.now()) as { n: number }).n), timers: 0 }
  }

  private read(statement: StatementSync, kind: string, value: string): OidcPayload | undefined {
    const row = guarded(() => statement.get(kind, value, this.clock.now())) as ArtefactRow | undefined
    if (!row) return undefined
    const payload = JSON.parse(row.payload) as OidcPayload
    return row.consumed === null ? payload : { ...payload, consumed: row.consumed }
  }
}
