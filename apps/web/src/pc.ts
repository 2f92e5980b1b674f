import {
  QrLoginClient,
  type ApprovalMethod,
  QrLoginError,
  transportNames,
  type LoginHandle,
  type LoginStatusView,
  type TransportChoice,
  type UserProfile,
  type ErrorCode,
} from '@qr-login/client'
import { formatDuration, readMeta, signedInUser, t, translatePage, wireLanguageSwitch } from './i18n.js'
import { TransportInspector } from './inspector.js'

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

const main = element<HTMLElement>('main')
const qr = element<HTMLImageElement>('qr')
const scanner = element<HTMLDivElement>('scanner')
const scannerAvatar = element<HTMLImageElement>('scanner-avatar')
const countdown = element<HTMLParagraphElement>('countdown')
const message = element<HTMLParagraphElement>('message')
const hint = element<HTMLParagraphElement>('hint')
const renew = element<HTMLButtonElement>('renew')
const loginView = element<HTMLDivElement>('login-view')
const signedInView = element<HTMLDivElement>('signed-in-view')
const signedInMessage = element<HTMLParagraphElement>('signed-in-message')
const approvedWithNote = element<HTMLParagraphElement>('approved-with')
const userAvatar = element<HTMLImageElement>('user-avatar')
const logoutButton = element<HTMLButtonElement>('logout')
/** The inspector and its transport picker: on `/`, not on an application's QR page (unless ?inspect=1). */
const transportSelect = document.getElementById('transport') as HTMLSelectElement | null

const transports: TransportChoice[] = ['auto', ...transportNames]
/** Stop refreshing an unattended page after this many QR codes expire in a row. */
const maxAutoRefreshes = 10
const autoRefreshDelayMs = 1500

const client = new QrLoginClient()
/** On the OpenID provider's sign-in page: the application asking, and the interaction the login answers. */
const asking = readMeta<{
  uid: string
  name: string
  loginHint?: string
  /** The app's logo on this service, and its pages (RFC 7591 client_uri, policy_uri, tos_uri). */
  logo?: string
  clientUri?: string
  policyUri?: string
  tosUri?: string
}>('qr-login-app')
/** login_hint: the account whose phone alone may approve, as the application asked or as ?login_hint= says. */
const loginHint =
  (asking ? asking.loginHint : new URL(location.href).searchParams.get('login_hint')?.trim()) || undefined
// A service of several worker processes serves socket.io over WebSocket only: say so, and skip the refused polling.
const socketIoTransports = readMeta<('polling' | 'websocket')[]>('qr-login-socket-io-transports')
/** Tabs of this browser tell each other when it signs in or out: one exchange serves them all. */
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('qr-login') : undefined
let signedInAs: UserProfile | undefined
/** Only the tab that created the login exchanges it; tabs that joined it (?login=) hear the result. */
let ownsLogin = false
const inspectorTable = document.getElementById('inspector') as HTMLTableElement | null
const inspector = inspectorTable ? new TransportInspector(inspectorTable.tBodies[0], client) : undefined

let login: (LoginHandle & { expiresAt: string; scanUrl?: string; userCode?: string }) | undefined
let lastVersion = 0
let watching: AbortController | undefined
let countdownTimer: ReturnType<typeof setInterval> | undefined
let expiredInARow = 0
let refreshTimer: ReturnType<typeof setTimeout> | undefined

function transport(): TransportChoice {
  const chosen = new URL(location.href).searchParams.get('transport') as TransportChoice | null
  return chosen && transports.includes(chosen) ? chosen : 'auto'
}

/** The URL says which transport and which login: reload, or open it in another tab, and you are back on the same one. */
function rememberInUrl(id: string | undefined) {
  const url = new URL(location.href)
  if (id) url.searchParams.set('login', id)
  else url.searchParams.delete('login')
  if (transportSelect) url.searchParams.set('transport', transportSelect.value)
  history.replaceState(null, '', url.pathname + url.search)
}

/**
 * Can't scan (the page is open on the phone itself, or a screen reader reads it)? The code to type
 * on the phone's home page, read out letter by letter. Only while the login waits for a scan.
 */
function showUserCode(current: typeof login) {
  const hint = element<HTMLParagraphElement>('user-code-hint')
  if (!current?.userCode || !current.scanUrl) return
  const code = document.createElement('kbd')
  code.id = 'user-code'
  code.textContent = current.userCode
  code.setAttribute('aria-label', current.userCode.replace('-', '').split('').join(' '))
  const [before, after] = t('pc.cantScan', { url: new URL('/m', current.scanUrl).href, code: '\u0000' }).split('\u0000')
  hint.replaceChildren(before ?? '', code, after ?? '')
  hint.hidden = false
}

function setState(state: string, text: string, extra = '') {
  element('user-code-hint').hidden = true
  main.dataset.state = state
  message.textContent = text
  hint.textContent = extra
}

function showRenewButton(label: string | undefined) {
  renew.hidden = !label
  renew.textContent = label ?? ''
}

function tickCountdown() {
  if (!login) return
  const left = Date.parse(login.expiresAt) - Date.now()
  countdown.textContent = left > 0 ? t('pc.expiresIn', { time: formatDuration(left) }) : ''
}

function render(status: LoginStatusView) {
  lastVersion = status.version
  if (login) login.expiresAt = status.expiresAt
  tickCountdown()
  element('match-code').hidden = !status.matchCode
  element('match-digits').textContent = status.matchCode ?? ''
  scanner.hidden = !status.scannedBy
  if (status.scannedBy) scannerAvatar.src = status.scannedBy.avatarUrl
  switch (status.status) {
    case 'pending':
      setState('pending', t('pc.pending'), login?.scanUrl ? t('pc.openOnPhone', { url: login.scanUrl }) : '')
      showUserCode(login)
      break
    case 'scanned':
      setState('scanned', t('pc.scanned', { name: status.scannedBy?.displayName ?? '' }))
      break
    case 'confirmed':
      setState('confirmed', t('pc.confirmed'))
      if (asking) void continueToApp('finish')
      else void (ownsLogin ? exchange() : exchangeUnlessSiblingDoes())
      break
    case 'consumed':
      void showSignedInOrRenew()
      break
    case 'cancelled':
      stopCountdown()
      setState('cancelled', t('pc.cancelled'))
      // The application hears of it (error=access_denied); on this service's own page, a new QR is offered.
      if (asking) void continueToApp('abort')
      else showRenewButton(t('pc.newQr'))
      break
    case 'expired':
      stopCountdown()
      expiredInARow++
      setState('expired', t('pc.expired'), expiredInARow <= maxAutoRefreshes ? t('pc.autoRefresh') : '')
      showRenewButton(t('pc.refresh'))
      scheduleAutoRefresh()
      break
  }
}

function scheduleAutoRefresh() {
  if (expiredInARow > maxAutoRefreshes) return
  const refreshWhenVisible = () => {
    if (document.visibilityState !== 'visible') return
    document.removeEventListener('visibilitychange', refreshWhenVisible)
    refreshTimer = setTimeout(() => void newLogin(), autoRefreshDelayMs)
  }
  document.addEventListener('visibilitychange', refreshWhenVisible)
  refreshWhenVisible()
}

function stopCountdown() {
  clearInterval(countdownTimer)
  countdown.textContent = ''
}

/**
 * socket.io takes the watch token in its handshake, and only the tab that created the login holds it
 * (the others share the HttpOnly qr_watch cookie, which is not sent to /socket.io/): they watch with auto.
 */
function watchableWith(chosen: TransportChoice, handle: LoginHandle): TransportChoice {
  return chosen === 'socket.io' && !handle.watchToken ? 'auto' : chosen
}

async function watch() {
  watching?.abort()
  const current = login
  if (!current) return
  const stop = new AbortController()
  watching = stop
  try {
    for await (const status of client.watch(current, {
      transport: watchableWith((transportSelect?.value as TransportChoice | undefined) ?? transport(), current),
      since: lastVersion,
      signal: stop.signal,
      ...(socketIoTransports ? { socketIoTransports } : {}),
      onTraffic: (event) => inspector?.record(event, current),
    })) {
      if (stop.signal.aborted) return
      render(status)
    }
  } catch (error) {
    if (stop.signal.aborted) return
    // A login that another tab already finished, or that is gone: is this browser signed in now?
    if (
      error instanceof QrLoginError &&
      ['WATCH_TOKEN_REQUIRED', 'WATCH_TOKEN_INVALID', 'QR_NOT_FOUND'].includes(error.code)
    ) {
      return showSignedInOrRenew()
    }
    showError(error)
  }
}

function showError(error: unknown) {
  const text =
    error instanceof QrLoginError ? `${error.message} (${error.code})` : String((error as Error)?.message ?? error)
  setState('error', t('pc.error', { message: text }))
  showRenewButton(t('pc.retry'))
}

/**
 * The application's sign-in goes on: a confirmed login is redeemed for it, or a cancelled one tells it
 * access_denied; either way the browser follows the provider back to the application.
 */
async function continueToApp(step: 'finish' | 'abort') {
  if (!asking || !login) return
  try {
    const response = await fetch(`/interaction/${encodeURIComponent(asking.uid)}/${step}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(login.watchToken ? { authorization: `Bearer ${login.watchToken}` } : {}),
      },
      body: JSON.stringify({ id: login.id }),
    })
    const body = (await response.json()) as { redirectTo?: string; code?: ErrorCode; message?: string }
    if (!response.ok || !body.redirectTo)
      throw new QrLoginError(body.code ?? `HTTP_${response.status}`, response.status, body.message ?? '')
    watching?.abort()
    stopCountdown()
    location.assign(body.redirectTo)
  } catch (error) {
    showError(error)
  }
}

async function exchange() {
  if (!login) return
  try {
    const { user, approvedWith } = await client.exchange(login)
    showSignedIn(user, approvedWith)
    tabs?.postMessage({ type: 'signed-in', user, approvedWith })
  } catch (error) {
    // Another tab of this browser may have exchanged first: its message (or its cookie) says so.
    if (error instanceof QrLoginError && error.code === 'ALREADY_CONSUMED') return showSignedInOrRenew()
    showError(error)
  }
}

/** A tab that joined a login: give the tab that made it a moment to exchange (a reload has no sibling), then do it. */
async function exchangeUnlessSiblingDoes() {
  const deadline = Date.now() + 2000
  while (!signedInAs && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  if (!signedInAs) await exchange()
}

/** Signed in by another tab? Wait briefly for its message, then ask the server; otherwise start over. */
async function showSignedInOrRenew() {
  const deadline = Date.now() + 10_000
  while (!signedInAs && Date.now() < deadline) {
    try {
      const { user, approvedWith } = await client.me()
      return showSignedIn(user, approvedWith)
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  if (!signedInAs) await newLogin()
}

function showSignedIn(user: UserProfile, approvedWith: ApprovalMethod | undefined) {
  signedInAs = user
  watching?.abort()
  stopCountdown()
  rememberInUrl(undefined)
  main.dataset.state = 'signed-in'
  loginView.hidden = true
  signedInView.hidden = false
  userAvatar.src = user.avatarUrl
  signedInMessage.textContent = t('pc.signedIn', { name: user.displayName })
  // How the phone approved it: a passkey proves more than a tap on an unlocked phone.
  approvedWithNote.hidden = !approvedWith
  approvedWithNote.dataset.method = approvedWith ?? ''
  if (approvedWith) approvedWithNote.textContent = t(`pc.approvedWith.${approvedWith}`)
  logoutButton.focus()
}

function startLogin(created: LoginHandle & { expiresAt: string; scanUrl?: string }, status?: LoginStatusView) {
  login = created
  lastVersion = 0
  loginView.hidden = false
  signedInView.hidden = true
  showRenewButton(undefined)
  qr.src = `/api/qr/${encodeURIComponent(created.id)}/qr.svg`
  main.dataset.loginId = created.id
  rememberInUrl(created.id)
  clearInterval(countdownTimer)
  countdownTimer = setInterval(tickCountdown, 1000)
  if (status) render(status)
  else tickCountdown()
  void watch()
}

async function newLogin() {
  clearTimeout(refreshTimer)
  watching?.abort()
  setState('loading', t('pc.loading'))
  try {
    const created = await client.createLogin(
      asking ? { path: `/interaction/${encodeURIComponent(asking.uid)}/qr` } : { loginHint },
    )
    // Another tab may have signed this browser in while we waited: then there is nothing to show a QR for.
    if (signedInAs) return
    ownsLogin = true
    startLogin(created)
  } catch (error) {
    showError(error)
  }
}

/** A second tab opened on ?login=<id> watches the same login: the qr_watch cookie is shared by the browser. */
async function attach(id: string): Promise<boolean> {
  try {
    const status = await client.status({ id })
    if (status.status === 'consumed' || status.status === 'cancelled' || status.status === 'expired') return false
    ownsLogin = false
    startLogin({ id, expiresAt: status.expiresAt }, status)
    return true
  } catch {
    return false
  }
}

/** The application asking: its logo, and links to its own pages, each opened outside this sign-in. */
function showApp(app: NonNullable<typeof asking>) {
  const logo = element<HTMLImageElement>('app-logo')
  if (app.logo) {
    logo.src = app.logo
    logo.alt = t('app.logoAlt', { name: app.name })
    logo.hidden = false
  }
  const links = [
    [app.clientUri, t('app.home', { name: app.name })],
    [app.policyUri, t('app.policy')],
    [app.tosUri, t('app.terms')],
  ].flatMap(([href, label]) => {
    if (!href || !/^https?:\/\//.test(href)) return []
    const link = document.createElement('a')
    link.href = href
    link.textContent = label!
    link.target = '_blank'
    link.rel = 'noopener noreferrer'
    return [link]
  })
  const box = element('app-links')
  box.replaceChildren(...links)
  box.hidden = links.length === 0
}

function showLoginHint() {
  const hint = element('login-hint')
  hint.hidden = !loginHint
  if (loginHint) hint.textContent = t('pc.loginHint', { name: loginHint })
}

async function start() {
  showLoginHint()
  transportSelect?.replaceChildren(
    ...transports.map((name) => {
      const option = document.createElement('option')
      option.value = name
      option.dataset.i18n = `transport.${name}`
      return option
    }),
  )
  translatePage()
  wireLanguageSwitch(element<HTMLAnchorElement>('lang-switch'))
  if (transportSelect) {
    transportSelect.value = transport()
    transportSelect.addEventListener('change', () => {
      rememberInUrl(login?.id)
      void watch()
    })
  }
  renew.addEventListener('click', () => {
    expiredInARow = 0
    void newLogin()
  })
  logoutButton.addEventListener('click', async () => {
    await client.logout().catch(() => undefined)
    tabs?.postMessage({ type: 'signed-out' })
    signedInAs = undefined
    expiredInARow = 0
    await newLogin()
  })
  tabs?.addEventListener(
    'message',
    (event: MessageEvent<{ type: string; user?: UserProfile; approvedWith?: ApprovalMethod }>) => {
      if (event.data.type === 'signed-in' && event.data.user && !signedInAs)
        showSignedIn(event.data.user, event.data.approvedWith)
      if (event.data.type === 'signed-out' && signedInAs) {
        signedInAs = undefined
        void newLogin()
      }
    },
  )
  if (asking) {
    // An application's sign-in: whoever this browser is signed in as here, the phone approves it afresh.
    element('title').textContent = t('pc.appTitle', { name: asking.name })
    document.title = t('pc.appTitle', { name: asking.name })
    const back = element<HTMLButtonElement>('app-cancel')
    back.hidden = false
    back.textContent = t('pc.appCancel', { name: asking.name })
    back.addEventListener('click', () => void continueToApp('abort'))
    showApp(asking)
    return newLogin()
  }
  const user = signedInUser<UserProfile & { approvedWith?: ApprovalMethod }>()
  if (user) return showSignedIn(user, user.approvedWith)
  const id = new URL(location.href).searchParams.get('login')
  if (id && (await attach(id))) return
  await newLogin()
}

void start()
