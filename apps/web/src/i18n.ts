/** English and Simplified Chinese. The server picks the language (Accept-Language, ?lang=, the switch's cookie) and sets <html lang>. */
export type Lang = 'en' | 'zh-CN'

const en = {
  'pc.title': 'Sign in with your phone',
  'pc.pending': "Scan the QR code with your phone's camera",
  'pc.openOnPhone': 'or open {url} on your phone',
  'pc.cantScan': 'Can’t scan? On your phone, open {url} and enter {code}',
  'pc.scanned': 'Scanned by {name} — confirm on your phone',
  'pc.confirmed': 'Confirmed — signing you in…',
  'pc.signedIn': 'Signed in as {name}',
  'pc.logout': 'Sign out',
  'pc.appTitle': 'Sign in to {name} with your phone',
  'pc.loginHint': 'Scan with the phone signed in as {name}: no other account can approve this sign-in.',
  'pc.appCancel': 'Cancel and go back to {name}',
  'pc.approvedWith.tap': 'Approved with a tap on your phone.',
  'pc.approvedWith.passkey': 'Approved on your phone with a passkey.',
  'pc.cancelled': 'Sign-in was cancelled on the phone.',
  'pc.newQr': 'New QR code',
  'pc.expired': 'This QR code has expired.',
  'pc.refresh': 'Refresh',
  'pc.autoRefresh': 'A new one appears in a moment.',
  'pc.expiresIn': 'Expires in {time}',
  'pc.loading': 'Getting a QR code…',
  'pc.error': 'Something went wrong: {message}',
  'pc.retry': 'Try again',
  'pc.qrAlt': 'QR code to scan with your phone',
  'pc.transport': 'Transport',
  'transport.auto': 'Auto',
  'transport.poll': 'Short poll',
  'transport.long-poll': 'Long poll',
  'transport.sse': 'SSE',
  'transport.ws': 'WebSocket',
  'transport.socket.io': 'socket.io',
  'inspector.title': 'Transport inspector',
  'inspector.intro': 'What watching this login costs, per transport, measured on this page.',
  'inspector.transport': 'Transport',
  'inspector.requests': 'Requests',
  'inspector.bytes': 'Bytes in',
  'inspector.events': 'Statuses',
  'inspector.lastDelay': 'Last delay',
  'inspector.avgDelay': 'Avg delay',
  'inspector.active': 'active',
  'inspector.delayNote': 'Delay: from the server writing a change to this page receiving it.',
  'pc.matchCode': 'On your phone, pick',
  'phone.networkWarning':
    'This computer is on a different network ({ip}) than your phone ({phoneIp}). If you are not sitting at it, cancel.',
  'phone.matchPrompt': 'Tap the number shown on the computer:',
  'phone.matchWrong': 'That was not the number on the computer, so the sign-in was cancelled.',
  'phone.sessionsTitle': 'Computers signed in with this phone',
  'phone.sessionsNone': 'None right now.',
  'phone.sessionSince': 'since {time}',
  'phone.historyTitle': 'Recent sign-in requests',
  'phone.historyNone': 'None yet.',
  'phone.outcome.approved': 'Approved',
  'phone.outcome.cancelled': 'Cancelled',
  'phone.outcome.expired': 'Expired before you confirmed',
  'phone.outcome.wrong-number': 'Wrong number picked, cancelled',
  'phone.revoke': 'Sign out',
  'phone.revoked': 'Signed out.',
  'lang.switch': '中文',
  'phone.title': 'Confirm sign-in',
  'phone.signInTitle': 'Sign in to the demo app',
  'phone.signInIntro': 'This is a mock mobile app. Pick a demo account:',
  'phone.username': 'User name',
  'phone.password': 'Password',
  'phone.signIn': 'Sign in',
  'phone.quickPick': 'Sign in as {name}',
  'phone.signedInAs': 'Signed in as {name}',
  'phone.signOut': 'Sign out',
  'phone.askTitle': 'Sign in on a computer?',
  'phone.appAsks': '{name} wants you to sign in',
  'phone.browser': 'Browser',
  'phone.os': 'System',
  'phone.ip': 'IP address',
  'phone.requested': 'Requested',
  'phone.ago': '{age} ago',
  'phone.warning':
    'Only confirm a sign-in you started yourself, on a computer in front of you. If someone sent you this code or asked you to scan it, cancel.',
  'phone.confirm': 'Confirm sign-in',
  'phone.cancel': 'Cancel',
  'phone.done': 'You are signed in on the computer.',
  'phone.cancelledDone': 'Sign-in cancelled. Nothing was shared.',
  'phone.expired': 'This QR code has expired. Refresh it on the computer and scan again.',
  'phone.unknown': 'This QR code is not valid.',
  'phone.alreadyScanned': 'This QR code has already been scanned by another account.',
  'phone.wrongAccount':
    'This sign-in was asked for another account, so this phone cannot approve it. Ask the person at the computer which account it is for.',
  'phone.networkMismatch':
    'This service approves a sign-in only from a phone on the computer’s network. The sign-in still waits: join the network the computer is on (its Wi-Fi), then scan the QR code again.',
  'phone.finished': 'This sign-in is already finished.',
  'phone.badCredentials': 'Wrong user name or password.',
  'phone.tooManyAttempts': 'Too many failed attempts. Try again in {minutes} min.',
  'phone.codeLabel': 'Can’t scan? Enter the code shown on the computer',
  'phone.codeSubmit': 'Continue',
  'phone.codeInvalid': 'A code is 8 letters, like BCDF-GHJK.',
  'phone.codeNotFound': 'No sign-in is waiting for this code. Check it on the computer.',
  'phone.codeLimited': 'Too many wrong codes. Try again in {minutes} min.',
  'phone.error': 'Something went wrong: {message}',
  'phone.homeTitle': 'Scan to sign in',
  'phone.homeInstructions':
    "Open your phone's camera app and point it at the QR code on the computer; then open the link it shows.",
  'phone.scanWithCamera': 'Scan with camera',
  'phone.cameraUnavailable': 'The camera is not available here: {message}',
  'phone.insecure': 'The in-page camera needs HTTPS. Use your camera app instead.',
  'phone.passkeysTitle': 'Passkeys',
  'phone.passkeysIntro': 'With a passkey, approving a sign-in also asks for your fingerprint, face or screen lock.',
  'phone.passkeysNone': 'No passkey yet.',
  'phone.addPasskey': 'Add a passkey',
  'phone.removePasskey': 'Remove',
  'phone.passkeyAdded': 'added {time}',
  'phone.passkeyUsed': 'last used {time}',
  'phone.passkeyUnsupported':
    'Passkeys need a browser that supports them and a secure page on a host name (localhost, or HTTPS with a name, not an IP address).',
  'phone.passkeyCancelled': 'The passkey was not used. Try again.',
  'phone.passkeyFailed': 'The passkey did not work: {message}',
  'phone.passkeyLimit': 'You have as many passkeys as allowed. Remove one first.',
  'phone.confirmWithPasskey': 'Confirm with passkey',
  'phone.passkeyRequired':
    'This service asks for a passkey to approve sign-ins. Add one under Passkeys on the home screen, then scan again.',
  'phone.donePasskey': 'Approved with your passkey. You are signed in on the computer.',
  'phone.method.tap': 'with a tap',
  'phone.method.passkey': 'with a passkey',
} as const

export type MessageKey = keyof typeof en

const zh: Record<MessageKey, string> = {
  'pc.title': '用手机扫码登录',
  'pc.pending': '请使用手机相机扫描二维码',
  'pc.openOnPhone': '或在手机上打开 {url}',
  'pc.cantScan': '无法扫码？请在手机上打开 {url} 并输入 {code}',
  'pc.scanned': '{name} 已扫码，请在手机上确认',
  'pc.confirmed': '已确认，正在登录…',
  'pc.signedIn': '已登录：{name}',
  'pc.logout': '退出登录',
  'pc.appTitle': '用手机扫码登录 {name}',
  'pc.loginHint': '请用已登录 {name} 账号的手机扫码：其他账号无法批准这次登录。',
  'pc.appCancel': '取消并返回 {name}',
  'pc.approvedWith.tap': '已在手机上点按确认。',
  'pc.approvedWith.passkey': '已在手机上用通行密钥确认。',
  'pc.cancelled': '已在手机上取消登录。',
  'pc.newQr': '获取新二维码',
  'pc.expired': '二维码已过期。',
  'pc.refresh': '刷新',
  'pc.autoRefresh': '稍后将自动刷新。',
  'pc.expiresIn': '{time} 后过期',
  'pc.loading': '正在获取二维码…',
  'pc.error': '出错了：{message}',
  'pc.retry': '重试',
  'pc.qrAlt': '用手机扫描的二维码',
  'pc.transport': '传输方式',
  'transport.auto': '自动',
  'transport.poll': '短轮询',
  'transport.long-poll': '长轮询',
  'transport.sse': 'SSE',
  'transport.ws': 'WebSocket',
  'transport.socket.io': 'socket.io',
  'inspector.title': '传输检查器',
  'inspector.intro': '在本页实测的各传输方式开销。',
  'inspector.transport': '传输方式',
  'inspector.requests': '请求数',
  'inspector.bytes': '接收字节',
  'inspector.events': '状态数',
  'inspector.lastDelay': '最近延迟',
  'inspector.avgDelay': '平均延迟',
  'inspector.active': '使用中',
  'inspector.delayNote': '延迟：从服务器写入变化到本页收到的时间。',
  'pc.matchCode': '请在手机上选择',
  'phone.networkWarning': '这台电脑所在的网络（{ip}）与你的手机（{phoneIp}）不同。如果你不在这台电脑前，请取消。',
  'phone.matchPrompt': '请点击电脑上显示的数字：',
  'phone.matchWrong': '所选数字与电脑上显示的不一致，已取消登录。',
  'phone.sessionsTitle': '用本手机登录的电脑',
  'phone.sessionsNone': '暂无。',
  'phone.sessionSince': '登录于 {time}',
  'phone.historyTitle': '最近的登录请求',
  'phone.historyNone': '暂无。',
  'phone.outcome.approved': '已确认',
  'phone.outcome.cancelled': '已取消',
  'phone.outcome.expired': '未确认，已过期',
  'phone.outcome.wrong-number': '选错数字，已取消',
  'phone.revoke': '退出该电脑',
  'phone.revoked': '已退出。',
  'lang.switch': 'English',
  'phone.title': '确认登录',
  'phone.signInTitle': '登录演示应用',
  'phone.signInIntro': '这是一个模拟的手机应用。请选择演示账号：',
  'phone.username': '用户名',
  'phone.password': '密码',
  'phone.signIn': '登录',
  'phone.quickPick': '以 {name} 登录',
  'phone.signedInAs': '当前账号：{name}',
  'phone.signOut': '退出',
  'phone.askTitle': '要在电脑上登录吗？',
  'phone.appAsks': '{name} 请求你登录',
  'phone.browser': '浏览器',
  'phone.os': '系统',
  'phone.ip': 'IP 地址',
  'phone.requested': '发起时间',
  'phone.ago': '{age}前',
  'phone.warning': '仅当这是你本人刚刚在面前的电脑上发起的登录时才确认。如果有人发给你此二维码或让你扫描，请取消。',
  'phone.confirm': '确认登录',
  'phone.cancel': '取消',
  'phone.done': '电脑端已登录。',
  'phone.cancelledDone': '已取消登录，未分享任何信息。',
  'phone.expired': '二维码已过期。请在电脑上刷新后重新扫描。',
  'phone.unknown': '二维码无效。',
  'phone.alreadyScanned': '此二维码已被其他账号扫描。',
  'phone.wrongAccount': '这次登录请求指定了另一个账号，这部手机无法批准。请向电脑前的人确认是哪个账号。',
  'phone.networkMismatch':
    '本服务只批准与电脑在同一网络中的手机发出的登录。请连接电脑所在的网络（例如它的 Wi-Fi），然后再次确认。',
  'phone.finished': '此次登录已结束。',
  'phone.badCredentials': '用户名或密码错误。',
  'phone.tooManyAttempts': '失败次数过多，请 {minutes} 分钟后再试。',
  'phone.codeLabel': '无法扫码？请输入电脑上显示的代码',
  'phone.codeSubmit': '继续',
  'phone.codeInvalid': '代码为 8 个字母，例如 BCDF-GHJK。',
  'phone.codeNotFound': '没有等待此代码的登录请求，请核对电脑上的代码。',
  'phone.codeLimited': '错误代码过多，请 {minutes} 分钟后再试。',
  'phone.error': '出错了：{message}',
  'phone.homeTitle': '扫码登录',
  'phone.homeInstructions': '打开手机相机，对准电脑上的二维码，然后打开识别出的链接。',
  'phone.scanWithCamera': '用相机扫描',
  'phone.cameraUnavailable': '无法使用相机：{message}',
  'phone.insecure': '页面内相机需要 HTTPS，请改用手机相机应用。',
  'phone.passkeysTitle': '通行密钥',
  'phone.passkeysIntro': '添加通行密钥后，确认登录时还需验证指纹、面容或锁屏密码。',
  'phone.passkeysNone': '尚未添加通行密钥。',
  'phone.addPasskey': '添加通行密钥',
  'phone.removePasskey': '移除',
  'phone.passkeyAdded': '添加于 {time}',
  'phone.passkeyUsed': '上次使用 {time}',
  'phone.passkeyUnsupported':
    '通行密钥需要支持它的浏览器，以及使用主机名的安全页面（localhost，或带域名的 HTTPS，不能是 IP 地址）。',
  'phone.passkeyCancelled': '未使用通行密钥，请重试。',
  'phone.passkeyFailed': '通行密钥验证失败：{message}',
  'phone.passkeyLimit': '通行密钥数量已达上限，请先移除一个。',
  'phone.confirmWithPasskey': '使用通行密钥确认',
  'phone.passkeyRequired': '该服务要求使用通行密钥确认登录。请先在首页的“通行密钥”中添加，然后重新扫码。',
  'phone.donePasskey': '已用通行密钥确认，电脑已登录。',
  'phone.method.tap': '点按确认',
  'phone.method.passkey': '通行密钥确认',
}

const catalogs: Record<Lang, Record<MessageKey, string>> = { en, 'zh-CN': zh }

export function currentLang(): Lang {
  return document.documentElement.lang === 'zh-CN' ? 'zh-CN' : 'en'
}

export function t(key: MessageKey, params: Record<string, string> = {}): string {
  return catalogs[currentLang()][key].replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '')
}

/** Fills every element carrying data-i18n (text) or data-i18n-attr="attr:key" (an attribute). */
export function translatePage(): void {
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n as MessageKey)
  }
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
    const [attribute, key] = element.dataset.i18nAttr!.split(':')
    element.setAttribute(attribute, t(key as MessageKey))
  }
}

/** The language switch: a link to the same page in the other language (the server remembers it in a cookie). */
export function wireLanguageSwitch(link: HTMLAnchorElement): void {
  const other = currentLang() === 'en' ? 'zh-CN' : 'en'
  // Computed when used: by then the URL also names the login on screen, so the switch keeps it.
  const update = () => {
    const url = new URL(location.href)
    url.searchParams.set('lang', other)
    link.href = url.pathname + url.search
  }
  update()
  link.lang = other
  link.addEventListener('click', update)
  link.addEventListener('focus', update)
  link.addEventListener('pointerenter', update)
}

/** Who the server says is signed in on this page (see the qr-login-user meta tag), if anyone. */
export function signedInUser<T>(): T | undefined {
  return readMeta<T>('qr-login-user')
}

/** What the server put in a <meta name=… content="JSON"> of the page. */
export function readMeta<T>(name: string): T | undefined {
  const content = document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content
  try {
    return content ? (JSON.parse(content) as T) : undefined
  } catch {
    return undefined
  }
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`
}

export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (currentLang() === 'zh-CN') return seconds < 60 ? `${seconds} 秒` : `${Math.round(seconds / 60)} 分钟`
  return seconds < 60 ? `${seconds} s` : `${Math.round(seconds / 60)} min`
}
