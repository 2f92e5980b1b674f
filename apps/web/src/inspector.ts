import {
  transportNames as names,
  type QrLoginClient,
  type LoginHandle,
  type TrafficEvent,
  type TransportName,
} from '@qr-login/client'
import { t, type MessageKey } from './i18n.js'

interface Row {
  requests: number
  bytes: number
  events: number
  delays: number[]
}

/**
 * Live cost of each transport on real traffic: requests made, bytes
 * received, statuses delivered, and the delay from the server writing a
 * change (its timeline) to this page receiving it, corrected for clock offset.
 */
export class TransportInspector {
  private readonly rows = new Map<TransportName, Row>(
    names.map((name) => [name, { requests: 0, bytes: 0, events: 0, delays: [] }]),
  )
  private active: TransportName | undefined

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly client: QrLoginClient,
  ) {
    this.render()
  }

  record(event: TrafficEvent, login: LoginHandle): void {
    switch (event.type) {
      case 'transport':
        this.active = event.transport
        break
      case 'request':
        this.rows.get(event.transport)!.requests++
        break
      case 'bytes':
        this.rows.get(event.transport)!.bytes += event.bytes
        break
      case 'status':
        this.rows.get(event.transport)!.events++
        void this.measureDelay(event.transport, event.status.version, event.receivedAt, login)
        break
      default:
        return
    }
    this.render()
  }

  private async measureDelay(transport: TransportName, version: number, receivedAt: number, login: LoginHandle) {
    try {
      const sentAt = Date.now()
      const response = await this.client.http.fetch(`${this.client.http.baseUrl}/api/qr/${login.id}/timeline`, {
        headers: login.watchToken ? { authorization: `Bearer ${login.watchToken}` } : {},
        credentials: 'same-origin',
      })
      if (!response.ok) return
      const timeline = (await response.json()) as { now: number; changes: { version: number; at: number }[] }
      const offset = timeline.now - (sentAt + Date.now()) / 2
      const change = timeline.changes.find((c) => c.version === version)
      // Version 1 was written before anyone watched: its "delay" says nothing about the transport.
      if (!change || version === 1) return
      this.rows.get(transport)!.delays.push(Math.max(0, receivedAt + offset - change.at))
      this.render()
    } catch {
      // The inspector is an aid; a failed measurement is simply not shown.
    }
  }

  private render(): void {
    const format = (ms: number | undefined) =>
      ms === undefined ? '–' : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
    this.body.replaceChildren(
      ...names.map((name) => {
        const row = this.rows.get(name)!
        const tr = document.createElement('tr')
        if (name === this.active) {
          tr.classList.add('active')
          tr.title = t('inspector.active')
        }
        const average = row.delays.length ? row.delays.reduce((a, b) => a + b, 0) / row.delays.length : undefined
        const cells = [
          t(`transport.${name}` as MessageKey),
          String(row.requests),
          row.bytes.toLocaleString(),
          String(row.events),
          format(row.delays.at(-1)),
          format(average),
        ]
        for (const [index, text] of cells.entries()) {
          const cell = document.createElement(index === 0 ? 'th' : 'td')
          if (index === 0) cell.scope = 'row'
          cell.textContent = text
          tr.append(cell)
        }
        tr.dataset.transport = name
        return tr
      }),
    )
  }
}
