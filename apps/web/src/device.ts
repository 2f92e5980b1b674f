import { startAuthentication } from '@simplewebauthn/browser'
import { QrLoginClient, QrLoginError } from '@qr-login/client'
import { translate, type Lang } from '@qr-login/messages'

/**
 * The OpenID provider's device confirm screen, for a user with a passkey: the server renders the page and
 * its confirm form; this asks for the passkey first (routes/passkeys.ts checks the answer and keeps the
 * approval for this device), then submits the form. Without it the button does nothing.
 */
const lang: Lang = document.documentElement.lang === 'zh-CN' ? 'zh-CN' : 'en'
const button = document.getElementById('confirm-passkey') as HTMLButtonElement | null
const problem = document.getElementById('passkey-problem')
const form = document.getElementById('op.deviceConfirmForm') as HTMLFormElement | null
const phone = new QrLoginClient().phone()

function explain(failure: unknown): string {
  const message = (failure as Error)?.message ?? String(failure)
  const name = (failure as Error)?.name
  if (name === 'NotAllowedError' || name === 'AbortError') return translate(lang, 'phone.passkeyCancelled')
  if (failure instanceof QrLoginError && failure.code !== 'PASSKEY_REJECTED')
    return translate(lang, 'phone.error', { message })
  return translate(lang, 'phone.passkeyFailed', { message })
}

button?.addEventListener('click', () => {
  const userCode = button.dataset.userCode ?? ''
  button.disabled = true
  if (problem) problem.textContent = ''
  void (async () => {
    try {
      const optionsJSON = await phone.devicePasskeyOptions(userCode)
      await phone.approveDeviceWithPasskey(userCode, await startAuthentication({ optionsJSON }))
      form?.requestSubmit()
    } catch (failure) {
      if (problem) problem.textContent = explain(failure)
      button.disabled = false
    }
  })()
})
