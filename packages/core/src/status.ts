import { Type, type Static } from 'typebox'

export const loginStatuses = ['pending', 'scanned', 'confirmed', 'consumed', 'cancelled', 'expired'] as const
export type LoginStatus = (typeof loginStatuses)[number]

/**
 * The status object every transport sends, identical for the same version.
 * This schema is its one definition: the TypeScript type below is derived
 * from it, the server validates, serializes (every transport, through one
 * compiled serializer) and documents with it.
 */
export const LoginStatusViewSchema = Type.Object(
  {
    id: Type.String(),
    status: Type.Enum([...loginStatuses]),
    version: Type.Integer({ minimum: 1 }),
    expiresAt: Type.String({ format: 'date-time' }),
    scannedBy: Type.Optional(Type.Object({ displayName: Type.String(), avatarUrl: Type.String() })),
    matchCode: Type.Optional(
      Type.String({
        pattern: '^\\d{2}$',
        description: 'MATCH_CODE=1 only, to the PC only: the number the phone must pick',
      }),
    ),
  },
  { description: 'Sent by every transport, identical for the same version' },
)

export type LoginStatusView = Static<typeof LoginStatusViewSchema>
