import { buildExampleApp } from './app.js'

// The demo client the service registers when OIDC_CLIENTS_FILE is not set (see the README).
const port = Number(process.env.EXAMPLE_PORT ?? 4000)
const baseUrl = process.env.EXAMPLE_URL ?? `http://localhost:${port}`
const issuer = process.env.ISSUER ?? 'http://localhost:3000/oidc'
const app = await buildExampleApp({
  issuer,
  clientId: process.env.CLIENT_ID ?? 'acme-notes',
  clientSecret: process.env.CLIENT_SECRET ?? 'acme-notes-demo-secret',
  baseUrl,
})
await app.listen({ port, host: process.env.HOST ?? '0.0.0.0' })
process.stdout.write(`Acme Notes (the example app) is running: ${baseUrl}/  — it signs in with ${issuer}\n`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close())
