import { translate, type Lang, type MessageKey } from '@qr-login/messages'

/** The page's side of the catalogue (@qr-login/messages): the server picked the language and set <html lang>. */
export type { Lang, MessageKey }
export function currentLang(): Lang {
  return document.documentElement.lang === 'zh-CN' ? 'zh-CN' : 'en'
}

export function t(key: MessageKey, params: Record<string, string> = {}): string {
  return translate(currentLang(), key, params)
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
