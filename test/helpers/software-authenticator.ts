import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { COSEALG, isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers'

/**
 * A WebAuthn authenticator in plain Node crypto, for tests that run without a browser: it answers a
 * registration prompt ("none" attestation) and signs assertions with ES256, the algorithm phones make.
 * `publicKeyAlgorithm` sets the algorithm its new credential claims. With anything but ES256 it
 * claims a key of that algorithm (random bytes where the key never signs, as with "none" attestation),
 * to see what the service accepts.
 */
export class SoftwareAuthenticator {
  readonly credentialId = isoBase64URL.fromBuffer(new Uint8Array(randomBytes(16)))
  private readonly privateKey: KeyObject
  private readonly publicKey: KeyObject
  private counter = 0

  constructor(
    readonly origin: string,
    readonly rpId: string,
    readonly publicKeyAlgorithm: number = COSEALG.ES256,
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    this.privateKey = pair.privateKey
    this.publicKey = pair.publicKey
  }

  /** What @simplewebauthn/browser's startRegistration() would POST for these options. */
  register(options: { challenge: string }) {
    const clientDataJSON = this.clientData('webauthn.create', options.challenge)
    const credentialId = isoBase64URL.toBuffer(this.credentialId)
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(credentialId.length)
    const authData = Buffer.concat([
      this.authenticatorDataHead(0x45), // user present, user verified, attested credential data
      Buffer.alloc(16), // AAGUID: none
      idLength,
      credentialId,
      this.cosePublicKey(),
    ])
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    )
    return this.credential(clientDataJSON, {
      attestationObject: isoBase64URL.fromBuffer(attestationObject),
      transports: ['internal'],
    })
  }

  /** What startAuthentication() would POST: an ES256 signature over this prompt's challenge. */
  assert(options: { challenge: string }) {
    const clientDataJSON = this.clientData('webauthn.get', options.challenge)
    const authData = this.authenticatorDataHead(0x05) // user present, user verified
    const signed = Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()])
    return this.credential(clientDataJSON, {
      authenticatorData: isoBase64URL.fromBuffer(new Uint8Array(authData)),
      signature: isoBase64URL.fromBuffer(new Uint8Array(sign('sha256', signed, this.privateKey))),
    })
  }

  /** The PublicKeyCredential JSON around a response, as @simplewebauthn/browser hands it over. */
  private credential<Response extends object>(clientDataJSON: Buffer, response: Response) {
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: { clientDataJSON: isoBase64URL.fromBuffer(new Uint8Array(clientDataJSON)), ...response },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    }
  }

  private clientData(type: string, challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }))
  }

  private authenticatorDataHead(flags: number): Buffer {
    const count = Buffer.alloc(4)
    count.writeUInt32BE(++this.counter)
    return Buffer.concat([createHash('sha256').update(this.rpId).digest(), Buffer.from([flags]), count])
  }

  private cosePublicKey(): Uint8Array {
    if (this.publicKeyAlgorithm !== COSEALG.ES256)
      // An "AKP" key (kty 7) of ML-DSA-44's size: all a "none" registration looks at is its algorithm.
      return isoCBOR.encode(
        new Map<number, unknown>([
          [1, 7],
          [3, this.publicKeyAlgorithm],
          [-1, new Uint8Array(randomBytes(1312))],
        ]) as never,
      )
    const jwk = this.publicKey.export({ format: 'jwk' })
    return isoCBOR.encode(
      new Map<number, unknown>([
        [1, 2], // kty: EC2
        [3, COSEALG.ES256],
        [-1, 1], // crv: P-256
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]) as never,
    )
  }
}
