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

/**
 * Addresses parsed lately: every scan compares the PC's address with the phone's, and the same few
 * addresses come back again and again (parsing was 1 % of a scan's CPU). Emptied when full, so it
 * holds at most this many.
 */
const recentlyParsed = new Map<string, Address | null>()
const recentlyParsedLimit = 1024

function parsed(address: string): Address | undefined {
  const known = recentlyParsed.get(address)
  if (known !== undefined) return known ?? undefined
  let result: Address | null
  try {
    // process(): an IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) is the IPv4 address it carries.
    result = ipaddr.process(address)
  } catch {
    result = null
  }
  if (recentlyParsed.size >= recentlyParsedLimit) recentlyParsed.clear()
  recentlyParsed.set(address, result)
  return result ?? undefined
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
    if (a === b) return parsed(a) !== undefined
    const left = parsed(a)
    const right = parsed(b)
    if (!left || !right || left.kind() !== right.kind()) return false
    if (left.toString() === right.toString()) return true
    const prefix = left.kind() === 'ipv4' ? rule.ipv4Prefix : rule.ipv6Prefix
    if (left.match(right, prefix)) return true
    return ranges.some((range) => range[0].kind() === left.kind() && left.match(range) && right.match(range))
  }
}

/** By the default rule: one address, one IPv4 /24 or one IPv6 /64. */
export const sameNetwork = networkTest(defaultNetworkRule)
