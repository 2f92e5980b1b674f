import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client'
import type { LoginStatusView } from '@qr-login/core'

export interface SocketIoWatcher {
  socket: Socket
  statuses: LoginStatusView[]
  /** Resolves with connect_error's message and data, for a refused handshake. */
  refused: Promise<{ message: string; data: unknown }>
  connected: Promise<void>
  readonly disconnectReason: string | undefined
  until(predicate: () => boolean): Promise<void>
  close(): void
}

/** A socket.io watcher of /qr that records every status and how it ended; it never reconnects by itself. */
export function openSocketIo(
  base: string,
  auth: Record<string, unknown>,
  options: Partial<ManagerOptions & SocketOptions> = {},
): SocketIoWatcher {
  // autoUnref: a client the test dropped mid-handshake leaves its connect timer (20 s) behind; it must not hold the process.
  const socket = io(`${base}/qr`, { auth, reconnection: false, forceNew: true, autoUnref: true, ...options })
  const statuses: LoginStatusView[] = []
  const waiters: { predicate: () => boolean; resolve: () => void }[] = []
  let disconnectReason: string | undefined
  const notify = () => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate()) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }
  socket.on('status', (status: LoginStatusView) => {
    statuses.push(status)
    notify()
  })
  socket.on('disconnect', (reason) => {
    disconnectReason = reason
    notify()
  })
  const refused = new Promise<{ message: string; data: unknown }>((resolve) =>
    socket.once('connect_error', (error: Error & { data?: unknown }) =>
      resolve({ message: error.message, data: error.data }),
    ),
  )
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', (error) => reject(error))
  })
  connected.catch(() => undefined)
  return {
    socket,
    statuses,
    refused,
    connected,
    get disconnectReason() {
      return disconnectReason
    },
    until(predicate) {
      if (predicate()) return Promise.resolve()
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    close: () => socket.disconnect(),
  }
}
