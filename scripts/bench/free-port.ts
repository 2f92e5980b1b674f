import { createServer } from 'node:net'

/** A port nothing listens on right now, from the kernel. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function canListen(port: number): Promise<boolean> {
  const server = createServer()
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => resolve(true))
  })
  if (listening) await new Promise((resolve) => server.close(resolve))
  return listening
}

/**
 * A port for a Redis Cluster node, whose cluster bus listens on the port + 10000: both free, and both
 * below the kernel's ephemeral range (32768 and up), so that no outgoing connection of another test
 * running at the same time can be given either of them between this check and the node's start.
 */
export async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 12_000)
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port
  }
}
