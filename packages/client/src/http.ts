import { errorFromResponse, networkError } from './errors.js'

export interface HttpOptions {
  baseUrl: string
  fetch: typeof fetch
  headers: Record<string, string>
}

export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path
}

/** fetch that turns every failure into a QrLoginError; returns the Response for the caller to read. */
export async function send(
  http: HttpOptions,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...http.headers, ...(init.headers as Record<string, string> | undefined) }
  if (init.token) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await http.fetch(joinUrl(http.baseUrl, path), { ...init, headers, credentials: 'same-origin' })
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') throw error
    throw networkError(error)
  }
  if (!response.ok) throw await errorFromResponse(response)
  return response
}

export async function sendJson<T>(
  http: HttpOptions,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<T> {
  const response = await send(http, path, init)
  return (response.status === 204 ? undefined : await response.json()) as T
}

/** Resolves after `ms`, or rejects with an AbortError when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError())
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export function abortError(): Error {
  const error = new Error('The watch was stopped')
  error.name = 'AbortError'
  return error
}
