import { Type, type Static } from 'typebox'
import {
  LoginStatusViewSchema,
  loginIdPattern,
  userCodeAlphabet,
  wireErrorCodes,
  type WireErrorCode,
} from '@qr-login/core'

/**
 * The HTTP API's shapes (../shared/api-contract.md), each defined once: the server validates requests,
 * serializes answers and writes its OpenAPI description with these schemas; the SDK, the CLI and the
 * tests type what they send and receive with the Static<> types beside them. A field added here is
 * added everywhere, or the type check says where it is not.
 */

export const LoginIdParams = Type.Object({
  id: Type.String({ pattern: loginIdPattern, description: 'A 21-character nanoid' }),
})

export const AvatarParams = Type.Object({
  file: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}\\.svg$' }),
})

/** The status object: defined once, in the core (the domain makes it; its type is derived from it). */
export const LoginStatusView = LoginStatusViewSchema
export type LoginStatusView = Static<typeof LoginStatusView>

/** login_hint as a person types a user name: any name is taken (none is looked up), but not a page of text. */
export const maxLoginHintLength = 64
export const LoginHint = Type.String({
  minLength: 1,
  maxLength: maxLoginHintLength,
  description: 'Only this account’s phone may scan the login (login_hint); any other gets 403 WRONG_ACCOUNT',
})

export const CreateBody = Type.Union([Type.Null(), Type.Object({ loginHint: Type.Optional(LoginHint) })])

export const CreatedLogin = Type.Object({
  ...LoginStatusView.properties,
  loginHint: Type.Optional(LoginHint),
  scanUrl: Type.String({ description: 'What the QR encodes: <PUBLIC_URL>/m/<id>' }),
  qrSvgUrl: Type.String(),
  pollIntervalMs: Type.Integer(),
  userCode: Type.String({
    pattern: `^[${userCodeAlphabet}]{4}-[${userCodeAlphabet}]{4}$`,
    description:
      'Can’t scan? The code to type on the phone (RFC 8628 §6.1); case, spaces and dashes do not matter there',
  }),
  watchToken: Type.String({
    description: 'The secret that binds the login to this browser; also set as the qr_watch cookie',
  }),
})

export const Timeline = Type.Object({
  now: Type.Integer({ description: 'The server clock (ms since the epoch), for estimating the client clock offset' }),
  changes: Type.Array(
    Type.Object({ version: Type.Integer(), at: Type.Integer({ description: 'When this version was written (ms)' }) }),
  ),
})

export const Requester = Type.Object({
  ip: Type.String(),
  userAgent: Type.String(),
  browser: Type.String(),
  os: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
})

export const Network = Type.Object(
  {
    phoneIp: Type.String(),
    sameNetwork: Type.Boolean({ description: 'The phone and the PC share an address, an IPv4 /24 or an IPv6 /64' }),
  },
  { description: 'Not in the v1 contract: lets the phone warn when the PC is somewhere else (consent phishing)' },
)

export const ScanResult = Type.Object({
  ...LoginStatusView.properties,
  requester: Requester,
  app: Type.Optional(
    Type.Object(
      {
        name: Type.String(),
        logo: Type.Optional(Type.String({ description: 'The app’s logo (logo_uri), served by this service' })),
      },
      { description: 'Not in the v1 contract: the application asking through the OpenID provider (client_name)' },
    ),
  ),
  network: Type.Optional(Network),
  matchChoices: Type.Optional(
    Type.Array(Type.String(), { description: 'MATCH_CODE=1 only: pick the one the PC shows' }),
  ),
})

const base64url = (description: string, maxLength = 16_384) =>
  Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength, description })

/** What @simplewebauthn/browser's startAuthentication() resolves to: the answer to a passkey prompt. */
export const PasskeyAssertion = Type.Object(
  {
    id: base64url('The credential id', 1024),
    rawId: base64url('The credential id', 1024),
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: base64url('As the browser gave it'),
      authenticatorData: base64url('As the authenticator gave it'),
      signature: base64url('Over authenticatorData and the hash of clientDataJSON'),
      userHandle: Type.Optional(base64url('The user handle', 1024)),
    }),
    authenticatorAttachment: Type.Optional(Type.Enum(['platform', 'cross-platform'])),
    clientExtensionResults: Type.Object({}, { additionalProperties: true }),
  },
  { description: 'The answer to POST /api/qr/:id/passkey-options, from the browser' },
)

/** What startRegistration() resolves to: a new passkey's public key and its proof. */
export const PasskeyAttestation = Type.Object(
  {
    id: base64url('The credential id', 1024),
    rawId: base64url('The credential id', 1024),
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: base64url('As the browser gave it'),
      attestationObject: base64url('As the authenticator gave it'),
      authenticatorData: Type.Optional(base64url('Also inside attestationObject')),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
      publicKey: Type.Optional(base64url('Also inside attestationObject')),
    }),
    authenticatorAttachment: Type.Optional(Type.Enum(['platform', 'cross-platform'])),
    clientExtensionResults: Type.Object({}, { additionalProperties: true }),
  },
  { description: 'The answer to POST /api/mobile/passkeys/options, from the browser' },
)

export const ConfirmBody = Type.Union([
  Type.Null(),
  Type.Object({
    matchCode: Type.Optional(
      Type.String({ pattern: '^\\d{2}$', description: 'MATCH_CODE=1: the number picked on the phone' }),
    ),
    passkey: Type.Optional(PasskeyAssertion),
  }),
])

/** WebAuthn options as @simplewebauthn/server makes them, passed to the browser as they are. */
export const PasskeyOptions = Type.Object(
  { challenge: Type.String() },
  { additionalProperties: true, description: 'Give to @simplewebauthn/browser as optionsJSON' },
)

export const PasskeyIdParams = Type.Object({
  passkeyId: base64url('A passkey id from GET /api/mobile/passkeys', 1024),
})

export const Passkey = Type.Object({
  id: Type.String(),
  label: Type.String({ description: 'The browser and system it was added on' }),
  rpId: Type.String({ description: 'The host name it works on' }),
  backedUp: Type.Boolean({ description: 'Synced by its provider (a multi-device passkey)' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Optional(Type.String({ format: 'date-time' })),
})

export const PasskeyList = Type.Object({ passkeys: Type.Array(Passkey) })
export const PasskeyEnvelope = Type.Object({ passkey: Passkey })

export const ApprovalMethod = Type.Enum(['tap', 'passkey'], {
  description: 'How the phone approved the login: a tap, or a passkey with user verification',
})

export const UserCodeBody = Type.Object({
  code: Type.String({ maxLength: 64, description: 'As typed: BCDF-GHJK, bcdf ghjk and BCDFGHJK are the same code' }),
})

export const UserCodeResult = Type.Object({
  id: Type.Optional(
    Type.String({
      description: 'The login the code belongs to; scan it with POST /api/qr/:id/scan (absent for a device’s code)',
    }),
  ),
  scanUrl: Type.String(),
})

export const User = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  avatarUrl: Type.String(),
})

export const UserEnvelope = Type.Object({ user: User })

/** The PC's session: its user and how the phone approved the login it came from. */
export const PcSignedIn = Type.Object({ user: User, approvedWith: ApprovalMethod })

export const PhoneSignIn = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ maxLength: 256 }),
})

export const PhoneSession = Type.Object({
  user: User,
  token: Type.String({ description: 'Also set as the m_session cookie; send as Authorization: Bearer' }),
})

export const SessionIdParams = Type.Object({
  sessionId: Type.String({ pattern: loginIdPattern, description: 'A session id from GET /api/mobile/sessions' }),
})

export const PcSession = Type.Object({
  id: Type.String({ description: 'A public handle of the session, not its secret' }),
  ip: Type.String(),
  userAgent: Type.String(),
  browser: Type.String(),
  os: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
})

export const PcSessionList = Type.Object({ sessions: Type.Array(PcSession) })

export const HistoryEntry = Type.Object({
  loginId: Type.String(),
  outcome: Type.Enum(['approved', 'cancelled', 'expired', 'wrong-number'], {
    description:
      'approved on the phone, cancelled, left to expire after a scan, or cancelled by picking the wrong number',
  }),
  at: Type.String({ format: 'date-time' }),
  ip: Type.String({ description: 'The computer that asked' }),
  browser: Type.String(),
  os: Type.String(),
  app: Type.Optional(Type.String({ description: 'The application that asked, when one did (OIDC client_name)' })),
  method: Type.Optional(ApprovalMethod),
})

export const History = Type.Object({ entries: Type.Array(HistoryEntry) })

export const StatusQuery = Type.Object({
  wait: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 30, description: 'Long poll: hold the request up to this many seconds' }),
  ),
  since: Type.Optional(Type.Integer({ minimum: 0, description: 'Long poll: answer as soon as version > since' })),
})

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  // The core's error table: each code with its status and message (packages/core/src/errors.ts).
  code: Type.Unsafe<WireErrorCode>(Type.String({ enum: [...wireErrorCodes] })),
  error: Type.String(),
  message: Type.String(),
})

export type LoginIdParams = Static<typeof LoginIdParams>
export type CreateBody = Static<typeof CreateBody>
export type CreatedLogin = Static<typeof CreatedLogin>
export type Timeline = Static<typeof Timeline>
export type Requester = Static<typeof Requester>
export type Network = Static<typeof Network>
export type ScanResult = Static<typeof ScanResult>
export type PasskeyAssertion = Static<typeof PasskeyAssertion>
export type PasskeyAttestation = Static<typeof PasskeyAttestation>
export type ConfirmBody = Static<typeof ConfirmBody>
export type PasskeyOptions = Static<typeof PasskeyOptions>
export type Passkey = Static<typeof Passkey>
export type PasskeyList = Static<typeof PasskeyList>
export type ApprovalMethod = Static<typeof ApprovalMethod>
export type UserCodeBody = Static<typeof UserCodeBody>
export type UserCodeResult = Static<typeof UserCodeResult>
export type User = Static<typeof User>
export type PcSignedIn = Static<typeof PcSignedIn>
export type PhoneSignIn = Static<typeof PhoneSignIn>
export type PhoneSession = Static<typeof PhoneSession>
export type PcSession = Static<typeof PcSession>
export type PcSessionList = Static<typeof PcSessionList>
export type HistoryEntry = Static<typeof HistoryEntry>
export type History = Static<typeof History>
export type StatusQuery = Static<typeof StatusQuery>
export type ErrorBody = Static<typeof ErrorBody>
