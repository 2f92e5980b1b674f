import ipaddr from 'ipaddr.js'

/** What counts as one network: a prefix length per family, and ranges that count as one network whole. */
export interface NetworkRule {
  ipv4Prefix: number
  ipv6Prefix: number
  /** CIDRs (an office's 10.20.0.0/16 with its Wi-Fi and wired /24s, a VPN's pool): two addresses in one are one network. */
  ranges: string[]
}

export const defaultNetworkRule: NetworkRule = { ipv4Prefix: 24, ipv6Prefix: 64, ranges: [] }

type Address = ipaddr.IPv4 | ipaddr.IPv6

/** An address as ipaddr.js reads it, and as a person reads it (IPv4 without ::ffff:, IPv6 in its short form). */
export interface ParsedAddress {
  address: Address
  plain: string
}

/**
 * Addresses parsed lately. Every request's peer is written in its plain form, and every scan compares
 * the PC's address with the phone's: the same few addresses come back again and again, and parsing them
 * each time (ipaddr.js tries the IPv6 pattern first) was 2.4 % of the server's CPU (docs/benchmarks.md).
 * Emptied when full, so it holds at most this many.
 */
const recentlyParsed = new Map<string, ParsedAddress | null>()
const recentlyParsedLimit = 1024

/** The address in `text`, or undefined when it is not one. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const known = recentlyParsed.get(text)
  if (known !== undefined) return known ?? undefined
  let parsed: ParsedAddress | null
  try {
    // process(): an IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) is the IPv4 address it carries.
    const address = ipaddr.process(text)
    parsed = { address, plain: address.toString() }
  } catch {
    parsed = null
  }
  if (recentlyParsed.size >= recentlyParsedLimit) recentlyParsed.clear()
  recentlyParsed.set(text, parsed)
  return parsed ?? undefined
}

/** Throws with ipaddr.js's message for a range that is not a CIDR. */
export function checkRanges(ranges: string[]): void {
  for (const range of ranges) ipaddr.parseCIDR(range)
}

/**
 * Whether two client addresses look like one network by the rule: the same address (one NAT), the
 * same IPv4 /24 (one LAN), the same IPv6 /64, or one configured range. A phone on mobile data while
 * the PC sits elsewhere is the consent-phishing picture the phone warns about (and REQUIRE_SAME_NETWORK
 * refuses).
 */
export function networkTest(rule: NetworkRule): (a: string, b: string) => boolean {
  const ranges = rule.ranges.map((range) => ipaddr.parseCIDR(range))
  return (a, b) => {
    const parsedA = parseAddress(a)
    const parsedB = parseAddress(b)
    if (!parsedA || !parsedB) return false
    if (parsedA.plain === parsedB.plain) return true
    const left = parsedA.address
    const right = parsedB.address
    if (left.kind() !== right.kind()) return false
    const prefix = left.kind() === 'ipv4' ? rule.ipv4Prefix : rule.ipv6Prefix
    if (left.match(right, prefix)) return true
    return ranges.some((range) => range[0].kind() === left.kind() && left.match(range) && right.match(range))
  }
}

/** By the default rule: one address, one IPv4 /24 or one IPv6 /64. */
export const sameNetwork = networkTest(defaultNetworkRule)
