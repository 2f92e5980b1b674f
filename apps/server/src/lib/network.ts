import { isIPv4, isIPv6 } from 'node:net'

function ipv6Groups(address: string): number[] | undefined {
  const [head = '', tail] = address.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  if (tail === undefined && left.length !== 8) return undefined
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return groups.map((group) => parseInt(group, 16))
}

/**
 * Whether two client addresses look like one network: the same address (one NAT),
 * the same IPv4 /24 (one LAN) or the same IPv6 /64. A phone on mobile data while
 * the PC sits elsewhere is the consent-phishing picture the phone warns about.
 */
export function sameNetwork(a: string, b: string): boolean {
  if (a === b) return true
  if (isIPv4(a) && isIPv4(b)) return a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.')
  if (isIPv6(a) && isIPv6(b)) {
    const left = ipv6Groups(a)
    const right = ipv6Groups(b)
    return Boolean(left && right && left.slice(0, 4).every((group, i) => group === right[i]))
  }
  return false
}
