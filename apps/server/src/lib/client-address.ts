import type { IncomingMessage } from 'node:http'
import proxyAddr from '@fastify/proxy-addr'
import { parseAddress } from './network.js'

/** TRUST_PROXY as configured: off, every hop, the nearest n hops, or the proxies' addresses and CIDRs. */
export type TrustProxySetting = boolean | number | string[]

/** Whether the hop at this address, `hop` steps from this server (0 = the peer of the socket), is a proxy of ours. */
export type TrustRule = (address: string, hop: number) => boolean

/**
 * The one reading of TRUST_PROXY, which the API, the pages, socket.io and the OpenID provider all use:
 * - `false` (unset): no proxy. The client is the socket's peer; X-Forwarded-* is ignored.
 * - `true`: every hop is a proxy, so the client is the left-most X-Forwarded-For entry. Only behind a
 *   proxy that overwrites the header rather than appending to it.
 * - `n`: the n nearest hops are proxies (the peer and the n - 1 addresses it appended), as Express reads
 *   a hop count. Fastify 5 reads a bare number as "trust nothing" because it cannot check the peer; here
 *   the operator who writes 1 says there is one proxy, and every request comes through it.
 * - addresses and CIDRs (and proxy-addr's names `loopback`, `linklocal`, `uniquelocal`): a hop is a proxy
 *   when its address is listed. An X-Forwarded-* header from a peer not listed is never read.
 */
export function trustRule(setting: TrustProxySetting): TrustRule {
  if (setting === true) return () => true
  if (setting === false) return () => false
  if (typeof setting === 'number') return (_address, hop) => hop < setting
  return proxyAddr.compile(setting)
}

/** Throws with proxy-addr's own message when an entry is neither an address, a CIDR nor a known name. */
export function checkTrustList(entries: string[]): void {
  proxyAddr.compile(entries)
}

/** The client's address by the rule: the nearest hop that is not a trusted proxy. */
export function clientAddress(request: IncomingMessage, trust: TrustRule): string {
  return proxyAddr(request, trust)
}

/**
 * An address as a person reads it and as it is compared: an IPv4 peer of a dual-stack socket without
 * its ::ffff: prefix, IPv6 in its short form (RFC 5952). Anything unparsable is kept as it came.
 */
export function plainAddress(address: string): string {
  return parseAddress(address)?.plain ?? address
}

/** The client's address by the rule, as a person reads it: what the phone is shown, what limits count. */
export function clientIp(request: { ip: string }): string {
  return plainAddress(request.ip)
}
