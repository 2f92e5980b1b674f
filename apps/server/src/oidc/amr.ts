import type { ApprovalMethod } from '@qr-login/core'

/** RFC 8176 method references: a tap proves a signed-in phone (a software key), a passkey a hardware key and its user. */
export const amrFor = (method: ApprovalMethod) => (method === 'passkey' ? ['hwk', 'user'] : ['swk'])
