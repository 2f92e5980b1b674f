import { networkInterfaces } from 'node:os'

/** The first non-internal IPv4 address: what a phone on the same network can reach. */
export function lanIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address
    }
  }
  return undefined
}
