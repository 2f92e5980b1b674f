import fastJson from 'fast-json-stringify'
import type { LoginStatusView } from '@qr-login/core'
import { LoginStatusView as StatusSchema } from '@qr-login/wire'

/**
 * The one serializer of the status object, compiled from the same TypeBox
 * schema Fastify compiles for the poll responses: every transport sends the
 * same fields, and a field added to the schema reaches all of them.
 */
export const serializeStatus: (status: LoginStatusView) => string = fastJson(StatusSchema)

/** The WebSocket frame: the status with `type` first. */
export function serializeStatusFrame(status: LoginStatusView): string {
  return `{"type":"status",${serializeStatus(status).slice(1)}`
}

/** For a transport that serializes objects itself (socket.io): the object the serializer would write. */
export function statusObject(status: LoginStatusView): LoginStatusView {
  return JSON.parse(serializeStatus(status)) as LoginStatusView
}
