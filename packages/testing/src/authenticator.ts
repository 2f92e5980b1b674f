import type { BrowserContext, Page } from 'playwright-core'

/**
 * A platform authenticator with user verification on the page, as a phone with a fingerprint reader
 * has (Chromium's virtual authenticator, over CDP): the phone page's passkeys then work headless.
 * The page must be on a secure context with a host name (localhost, or HTTPS), as WebAuthn wants.
 */
export async function addPasskeyAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  })
  return {
    /** The passkeys it holds, with their signature counters. */
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  }
}
