// The floor to compare against: a bare node:http server that holds SSE
// connections and writes one event to a connection when told to. Nothing
// else — no framework, no store, no auth. Same shape as confirm → notify.
import { createServer, type ServerResponse } from 'node:http'

const streams = new Map<string, ServerResponse>()
const collectGarbage = (globalThis as { gc?: () => void }).gc

const server = createServer((request, response) => {
  const [, kind, id] = request.url!.split('/')
  if (kind === 'events' && id) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    response.write(`event: status\nid: 2\ndata: {"id":"${id}","status":"scanned"}\n\n`)
    streams.set(id, response)
    request.on('close', () => streams.delete(id))
    return
  }
  if (kind === 'fire' && id) {
    const stream = streams.get(id)
    stream?.end(`event: status\nid: 3\ndata: {"id":"${id}","status":"confirmed"}\n\n`)
    streams.delete(id)
    response.writeHead(stream ? 200 : 404).end()
    return
  }
  if (kind === 'memory') {
    collectGarbage?.()
    collectGarbage?.()
    const usage = process.memoryUsage()
    const cpu = process.cpuUsage()
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ ...usage, cpuSeconds: (cpu.user + cpu.system) / 1e6 }))
    return
  }
  response.writeHead(404).end()
})
server.keepAliveTimeout = 72_000
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`floor:listening ${(server.address() as { port: number }).port}\n`)
})
