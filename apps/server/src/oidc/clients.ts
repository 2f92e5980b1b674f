import { readFileSync } from 'node:fs'
import { ConfigError } from '../config-error.js'

/** A registered OIDC client, in RFC 7591 names (what OIDC_CLIENTS_FILE holds). */
export interface OidcClient {
  client_id: string
  client_secret?: string
  client_name?: string
  redirect_uris?: string[]
  post_logout_redirect_uris?: string[]
  grant_types?: string[]
  response_types?: string[]
  token_endpoint_auth_method?: string
  /** RFC 7591 §2: the app's logo, home page, privacy policy and terms, shown to its users. */
  logo_uri?: string
  client_uri?: string
  policy_uri?: string
  tos_uri?: string
  [field: string]: unknown
}

export const deviceGrantType = 'urn:ietf:params:oauth:grant-type:device_code'

/**
 * Without OIDC_CLIENTS_FILE: the example app (apps/example-app, "Acme Notes" on port 4000) and the
 * CLI's device login. Their secrets are public on purpose: they are demos, documented in the README.
 */
export const demoClients: OidcClient[] = [
  {
    client_id: 'acme-notes',
    client_secret: 'acme-notes-demo-secret',
    client_name: 'Acme Notes',
    redirect_uris: ['http://localhost:4000/callback', 'http://127.0.0.1:4000/callback'],
    post_logout_redirect_uris: ['http://localhost:4000/', 'http://127.0.0.1:4000/'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: 'qr-login-cli',
    client_name: 'QR Login CLI',
    redirect_uris: [],
    response_types: [],
    grant_types: [deviceGrantType, 'refresh_token'],
    token_endpoint_auth_method: 'none',
  },
]

/** Reads OIDC_CLIENTS_FILE: a JSON array of client metadata; anything else stops the service, naming the variable. */
export function loadClients(file: string | undefined): OidcClient[] {
  if (!file) return demoClients
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ConfigError(`OIDC_CLIENTS_FILE: cannot read "${file}" as JSON (${(error as Error).message})`)
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new ConfigError(`OIDC_CLIENTS_FILE must hold a non-empty JSON array of client metadata, in "${file}"`)
  const ids = new Set<string>()
  return parsed.map((client: unknown, index) => {
    const where = `OIDC_CLIENTS_FILE entry ${index}`
    if (!client || typeof client !== 'object' || Array.isArray(client))
      throw new ConfigError(`${where} is not an object`)
    const { client_id: id } = client as OidcClient
    if (typeof id !== 'string' || !/^[\w.:-]{1,128}$/.test(id))
      throw new ConfigError(`${where}: client_id must be 1-128 letters, digits or _ . : -`)
    if (ids.has(id)) throw new ConfigError(`${where}: client_id "${id}" is listed twice`)
    ids.add(id)
    // RFC 7591's pages about the app: shown to its users (the logo fetched once, oidc/logos.ts), so web URLs only.
    for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const) {
      const value = (client as OidcClient)[field]
      if (
        value !== undefined &&
        (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/.test(value) || !URL.canParse(value))
      )
        throw new ConfigError(`${where}: ${field} must be an http(s) URL`)
    }
    for (const field of ['redirect_uris', 'post_logout_redirect_uris', 'grant_types', 'response_types'] as const) {
      const value = (client as OidcClient)[field]
      if (value !== undefined && (!Array.isArray(value) || value.some((each) => typeof each !== 'string')))
        throw new ConfigError(`${where}: ${field} must be an array of strings`)
    }
    return client as OidcClient
  })
}
