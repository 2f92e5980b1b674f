import {
  QrLoginClient,
  QrLoginError,
  type PasskeyInfo,
  type PasskeyAssertionJSON,
  type PhoneClient,
  type ScannedLogin,
  type UserProfile,
} from '@qr-login/client'
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser'
import { scanWithCamera } from './camera.js'
import { formatAge, signedInUser, t, translatePage, wireLanguageSwitch, type MessageKey } from './i18n.js'

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const main = element<HTMLElement>('main')
const views = ['sign-in-view', 'ask-view', 'home-view', 'result-view'].map((id) => element<HTMLElement>(id))

const client = new QrLoginClient()
// The phone page relies on its m_session cookie (HttpOnly), never on a token in script.
const phone: PhoneClient = client.phone()
const loginId = /^\/m\/([A-Za-z0-9_-]{21})\/?$/.exec(location.pathname)?.[1]
const malformedId = !loginId && /^\/m\/./.test(location.pathname)

function show(viewId: string, state: string) {
  for (const view of views) view.hidden = view.id !== viewId
  main.dataset.state = state
}

function showResult(state: string, key: MessageKey, params: Record<string, string> = {}) {
  show('result-view', state)
  element('result').textContent = t(key, params)
}

function showAccount(user: UserProfile | undefined) {
  element('account').hidden = !user
  element('account-name').textContent = user ? t('phone.signedInAs', { name: user.displayName }) : ''
}

/** Each refusal of the service has its own screen. */
function showFailure(error: unknown) {
  const code = error instanceof QrLoginError ? error.code : ''
  switch (code) {
    case 'QR_NOT_FOUND':
    case 'VALIDATION_ERROR':
      return showResult('unknown', 'phone.unknown')
    case 'QR_EXPIRED':
      return showResult('expired', 'phone.expired')
    case 'ALREADY_SCANNED':
      return showResult('already-scanned', 'phone.alreadyScanned')
    case 'WRONG_ACCOUNT':
      return showResult('wrong-account', 'phone.wrongAccount')
    case 'ALREADY_CONSUMED':
    case 'INVALID_TRANSITION':
    case 'NOT_SCANNED':
      return showResult('finished', 'phone.finished')
    default:
      return showResult('error', 'phone.error', { message: (error as Error)?.message ?? String(error) })
  }
}

/** The words for a refusal: a message per error code (with the wait in minutes, for RATE_LIMITED), else its own message. */
function explain(failure: unknown, byCode: Partial<Record<string, MessageKey>>): string {
  const key = byCode[failure instanceof QrLoginError ? failure.code : '']
  if (!key) return t('phone.error', { message: (failure as Error)?.message ?? String(failure) })
  const waitMs = (failure as QrLoginError).retryAfterMs ?? 60_000
  return t(key, { minutes: String(Math.max(1, Math.ceil(waitMs / 60_000))) })
}

async function showSignIn(): Promise<UserProfile> {
  show('sign-in-view', 'sign-in')
  const picks = element('quick-picks')
  const form = element<HTMLFormElement>('sign-in-form')
  const password = element<HTMLInputElement>('password')
  const error = element('sign-in-error')
  return new Promise((resolve) => {
    const signIn = async (username: string) => {
      error.textContent = ''
      try {
        const signed = await client.signInPhone(username, password.value)
        resolve(signed.user!)
      } catch (failure) {
        error.textContent = explain(failure, {
          BAD_CREDENTIALS: 'phone.badCredentials',
          RATE_LIMITED: 'phone.tooManyAttempts',
        })
      }
    }
    void client.demoUsers().then((users) => {
      picks.replaceChildren(
        ...users.map((user) => {
          const button = document.createElement('button')
          button.type = 'button'
          button.className = 'pick'
          button.dataset.username = user.username
          const avatar = document.createElement('img')
          avatar.src = user.avatarUrl
          avatar.alt = ''
          avatar.width = avatar.height = 40
          const label = document.createElement('span')
          label.textContent = t('phone.quickPick', { name: user.displayName })
          button.append(avatar, label)
          button.addEventListener('click', () => void signIn(user.username))
          return button
        }),
      )
    })
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      void signIn(element<HTMLInputElement>('username').value.trim())
    })
  })
}

type Choice = { choice: 'confirm'; matchCode?: string } | { choice: 'cancel' }

/** The request, and the user's answer to it. `problem` says why the last answer did not go through. */
function showRequest(scanned: ScannedLogin, withPasskey: boolean, problem = ''): Promise<Choice> {
  const { requester, network, matchChoices, app } = scanned
  const title = element('ask-title')
  title.textContent = app ? t('phone.appAsks', { name: app.name }) : t('phone.askTitle')
  title.dataset.app = app?.name ?? ''
  // The app's logo, from this service (its logo_uri was fetched once): the cue that tells a real app from a lure.
  const logo = element<HTMLImageElement>('ask-app-logo')
  logo.hidden = !app?.logo
  if (app?.logo) {
    logo.src = app.logo
    logo.alt = t('app.logoAlt', { name: app.name })
  }
  element('req-browser').textContent = requester.browser
  element('req-os').textContent = requester.os
  element('req-ip').textContent = requester.ip
  element('ask-error').textContent = problem
  const networkWarning = element('network-warning')
  networkWarning.hidden = !network || network.sameNetwork
  if (network && !network.sameNetwork)
    networkWarning.textContent = t('phone.networkWarning', { ip: requester.ip, phoneIp: network.phoneIp })
  const age = element('req-age')
  const updateAge = () =>
    (age.textContent = t('phone.ago', { age: formatAge(Date.now() - Date.parse(requester.createdAt)) }))
  updateAge()
  const ticker = setInterval(updateAge, 1000)
  show('ask-view', 'ask')
  const buttons = () => document.querySelectorAll<HTMLButtonElement>('#ask-view button')
  for (const button of buttons()) button.disabled = false
  return new Promise((resolve) => {
    // Asked again after a passkey problem: the last round's listeners go with it.
    const answered = new AbortController()
    const { signal } = answered
    const choose = (choice: Choice) => {
      clearInterval(ticker)
      answered.abort()
      for (const button of buttons()) button.disabled = true
      resolve(choice)
    }
    // Number matching: the three numbers replace the single Confirm button.
    const confirm = element<HTMLButtonElement>('confirm')
    element('match').hidden = !matchChoices
    confirm.hidden = Boolean(matchChoices)
    confirm.textContent = t(withPasskey ? 'phone.confirmWithPasskey' : 'phone.confirm')
    element('match-choices').replaceChildren(
      ...(matchChoices ?? []).map((code) => {
        const button = document.createElement('button')
        button.type = 'button'
        button.textContent = code
        button.addEventListener('click', () => choose({ choice: 'confirm', matchCode: code }), { signal })
        return button
      }),
    )
    confirm.addEventListener('click', () => choose({ choice: 'confirm' }), { signal })
    element('cancel').addEventListener('click', () => choose({ choice: 'cancel' }), { signal })
  })
}

/** Passkeys need WebAuthn in a secure context (HTTPS or localhost) on a host name: browsers refuse IP addresses. */
const passkeysWorkHere = () =>
  window.isSecureContext && browserSupportsWebAuthn() && !/^[\d.]+$|^\[/.test(location.hostname)

/** The words for a passkey that did not work: dismissed, refused by the service, or failed in the browser. */
function passkeyProblem(failure: unknown): string {
  const message = (failure as Error)?.message ?? String(failure)
  if (failure instanceof QrLoginError) {
    if (failure.code === 'PASSKEY_LIMIT_REACHED') return t('phone.passkeyLimit')
    return t(failure.code === 'PASSKEY_REJECTED' ? 'phone.passkeyFailed' : 'phone.error', { message })
  }
  const name = (failure as Error)?.name
  if (name === 'NotAllowedError' || name === 'AbortError') return t('phone.passkeyCancelled')
  return t('phone.passkeyFailed', { message })
}

/** This user's passkeys that work on this page's host (a passkey is bound to the host it was added on). */
async function usablePasskeys(): Promise<PasskeyInfo[]> {
  if (!passkeysWorkHere()) return []
  const passkeys = await phone.passkeys().catch(() => [])
  return passkeys.filter((passkey) => passkey.rpId === location.hostname)
}

async function approve(id: string) {
  try {
    const scanned = await phone.scan(id)
    // With a passkey of theirs here, confirming asks for it: the computer then knows it was them, not just their phone.
    const withPasskey = (await usablePasskeys()).length > 0
    let problem = ''
    for (;;) {
      const picked = await showRequest(scanned, withPasskey, problem)
      if (picked.choice === 'cancel') {
        await phone.cancel(id)
        return showResult('cancelled', 'phone.cancelledDone')
      }
      try {
        let passkey: PasskeyAssertionJSON | undefined
        if (withPasskey) passkey = await startAuthentication({ optionsJSON: await phone.passkeyOptions(id) })
        await phone.confirm(id, { matchCode: picked.matchCode, passkey })
        return showResult('done', withPasskey ? 'phone.donePasskey' : 'phone.done')
      } catch (failure) {
        // A dismissed prompt, an answer the service could not verify, or a lost connection: the request still
        // waits; ask again. Any other refusal (expired, cancelled elsewhere) ends it.
        if (failure instanceof QrLoginError && !failure.retryable && failure.code !== 'PASSKEY_REJECTED') throw failure
        problem = passkeyProblem(failure)
      }
    }
  } catch (error) {
    if (error instanceof QrLoginError && error.code === 'MATCH_CODE_MISMATCH')
      return showResult('cancelled', 'phone.matchWrong')
    if (error instanceof QrLoginError && (error.code === 'PASSKEY_REQUIRED' || error.code === 'NO_PASSKEY'))
      return showResult('passkey-required', 'phone.passkeyRequired')
    // The login still waits for this phone: scanning the QR again once on the computer's network confirms it.
    if (error instanceof QrLoginError && error.code === 'NETWORK_MISMATCH')
      return showResult('network-mismatch', 'phone.networkMismatch')
    showFailure(error)
  }
}

/** One item per entry, or a single line saying there are none. */
function fillList<T>(list: HTMLElement, entries: T[], noneKey: MessageKey, itemFor: (entry: T) => HTMLLIElement) {
  if (entries.length > 0) return list.replaceChildren(...entries.map(itemFor))
  const none = document.createElement('li')
  none.textContent = t(noneKey)
  list.replaceChildren(none)
}

/** The computers this user's QR logins signed in, each with a button that signs it out. */
async function showSessions() {
  const sessions = await phone.sessions().catch(() => undefined)
  if (!sessions) return
  element('sessions-view').hidden = false
  fillList(element('sessions'), sessions, 'phone.sessionsNone', (session) => {
    const item = document.createElement('li')
    item.dataset.sessionId = session.id
    const where = document.createElement('span')
    where.className = 'where'
    where.textContent = `${session.browser} · ${session.os} · ${session.ip}`
    const when = document.createElement('span')
    when.className = 'when'
    when.textContent = t('phone.sessionSince', {
      time: new Date(session.createdAt).toLocaleString(document.documentElement.lang),
    })
    where.append(when)
    const revoke = document.createElement('button')
    revoke.type = 'button'
    revoke.className = 'revoke'
    revoke.textContent = t('phone.revoke')
    revoke.addEventListener('click', async () => {
      revoke.disabled = true
      await phone.revokeSession(session.id).catch(() => undefined)
      void showSessions()
    })
    item.append(where, revoke)
    return item
  })
}

/** Settings: this user's passkeys, each removable, and a button that adds one. */
async function showPasskeys() {
  const passkeys = await phone.passkeys().catch(() => undefined)
  if (!passkeys) return
  element('passkeys-view').hidden = false
  const time = (iso: string) => new Date(iso).toLocaleString(document.documentElement.lang)
  fillList(element('passkeys'), passkeys, 'phone.passkeysNone', (passkey) => {
    const item = document.createElement('li')
    item.dataset.passkeyId = passkey.id
    const what = document.createElement('span')
    what.className = 'where'
    what.textContent = `${passkey.label} · ${passkey.rpId}`
    const when = document.createElement('span')
    when.className = 'when'
    when.textContent = [
      t('phone.passkeyAdded', { time: time(passkey.createdAt) }),
      passkey.lastUsedAt ? t('phone.passkeyUsed', { time: time(passkey.lastUsedAt) }) : '',
    ]
      .filter(Boolean)
      .join(' · ')
    what.append(when)
    const remove = document.createElement('button')
    remove.type = 'button'
    remove.className = 'revoke'
    remove.textContent = t('phone.removePasskey')
    remove.addEventListener('click', async () => {
      remove.disabled = true
      await phone.removePasskey(passkey.id).catch(() => undefined)
      void showPasskeys()
    })
    item.append(what, remove)
    return item
  })
}

function wirePasskeys() {
  const add = element<HTMLButtonElement>('add-passkey')
  const error = element('passkey-error')
  if (!passkeysWorkHere()) {
    add.hidden = true
    element('passkeys-intro').textContent = t('phone.passkeyUnsupported')
    return
  }
  add.addEventListener('click', async () => {
    add.disabled = true
    error.textContent = ''
    try {
      const options = await phone.passkeyRegistrationOptions()
      await phone.addPasskey(await startRegistration({ optionsJSON: options as never }))
      await showPasskeys()
    } catch (failure) {
      error.textContent = passkeyProblem(failure)
    } finally {
      add.disabled = false
    }
  })
}

/** Can't scan? The code under the QR finds the login; then the usual confirm screen. */
function wireCodeEntry() {
  const form = element<HTMLFormElement>('code-form')
  const input = element<HTMLInputElement>('user-code')
  const error = element('code-error')
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    input.removeAttribute('aria-invalid')
    try {
      // A QR login's confirm screen, or a device's (the OpenID provider's device flow): on this origin either way.
      const { scanUrl } = await phone.resolveCode(input.value)
      const target = new URL(scanUrl)
      location.assign(target.pathname + target.search)
    } catch (failure) {
      error.textContent = explain(failure, {
        VALIDATION_ERROR: 'phone.codeInvalid',
        CODE_NOT_FOUND: 'phone.codeNotFound',
        RATE_LIMITED: 'phone.codeLimited',
      })
      input.setAttribute('aria-invalid', 'true')
      input.focus()
    }
  })
}

/** What this user approved, cancelled or let expire, where it came from and when: a sign-in they did not make stands out. */
async function showHistory() {
  const entries = await phone.history().catch(() => undefined)
  if (!entries) return
  element('history-view').hidden = false
  fillList(element('history'), entries, 'phone.historyNone', (entry) => {
    const item = document.createElement('li')
    item.dataset.outcome = entry.outcome
    item.dataset.loginId = entry.loginId
    const what = document.createElement('span')
    what.className = 'where'
    const outcome = document.createElement('strong')
    outcome.className = `outcome ${entry.outcome}`
    outcome.textContent = t(`phone.outcome.${entry.outcome}` as MessageKey)
    if (entry.method) outcome.textContent += ` · ${t(`phone.method.${entry.method}`)}`
    const from = document.createElement('span')
    from.className = 'when'
    from.textContent = [entry.app, entry.browser, entry.os, entry.ip].filter(Boolean).join(' · ')
    const when = document.createElement('time')
    when.className = 'when'
    when.dateTime = entry.at
    when.textContent = new Date(entry.at).toLocaleString(document.documentElement.lang)
    what.append(outcome, from, when)
    item.append(what)
    return item
  })
}

function showHome() {
  show('home-view', 'home')
  wireCodeEntry()
  const camera = element<HTMLButtonElement>('camera')
  const instructions = element('home-instructions')
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    instructions.textContent = `${t('phone.homeInstructions')} ${t('phone.insecure')}`
    return
  }
  camera.hidden = false
  camera.addEventListener('click', async () => {
    camera.disabled = true
    try {
      const text = await scanWithCamera(element<HTMLVideoElement>('viewfinder'), new AbortController().signal)
      const url = new URL(text, location.href)
      if (url.origin === location.origin && /^\/m\/[A-Za-z0-9_-]{21}$/.test(url.pathname)) location.assign(url.href)
      else showResult('unknown', 'phone.unknown')
    } catch (error) {
      instructions.textContent = t('phone.cameraUnavailable', { message: (error as Error).message })
      camera.disabled = false
    }
  })
}

async function start() {
  translatePage()
  wireLanguageSwitch(element<HTMLAnchorElement>('lang-switch'))
  element('sign-out').addEventListener('click', async () => {
    await client.http.fetch('/api/mobile/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined)
    location.reload()
  })
  if (malformedId) return showResult('unknown', 'phone.unknown')
  let user = signedInUser<UserProfile>()
  if (!user) user = await showSignIn()
  // Sent here to sign in first (a device's confirm screen): back there, on this origin only.
  const next = new URL(location.href).searchParams.get('next')
  if (next && /^\/(?!\/)/.test(next)) return location.assign(next)
  showAccount(user)
  if (loginId) await approve(loginId)
  else {
    showHome()
    wirePasskeys()
    await Promise.all([showPasskeys(), showSessions(), showHistory()])
  }
}

void start()
