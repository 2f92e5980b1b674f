import { createHash } from 'node:crypto'

/** A circle in a colour derived from the name, with its initial: every demo user gets a face without any image files. */
export function avatarSvg(name: string): string {
  const hue = createHash('sha256').update(name).digest()[0] * (360 / 256)
  const initial = (name.charAt(0) || '?').toUpperCase().replace(/[^A-Z0-9]/, '?')
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">' +
    `<circle cx="48" cy="48" r="48" fill="hsl(${Math.round(hue)} 55% 45%)"/>` +
    `<text x="48" y="62" font-family="system-ui, sans-serif" font-size="44" font-weight="600" fill="#fff" text-anchor="middle">${initial}</text>` +
    '</svg>'
  )
}
