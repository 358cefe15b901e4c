/**
 * The page's configuration, rendered by `{% sockpuppet_scripts %}` as JSON in
 * `<script id="sockpuppet-config" type="application/json">`.
 *
 * Client-side durations are milliseconds; the server's `heartbeat` (from negotiate) is
 * seconds. A missing or broken config element still gives a working client: the CSRF token
 * then comes from Django's `csrftoken` cookie.
 *
 * `csrfCookieName` names Django's CSRF cookie when the page can read it (null when
 * `CSRF_COOKIE_HTTPONLY` or `CSRF_USE_SESSIONS` hide it); `csrfToken` is the page's token;
 * `csrfHeader` is the header Django reads it from (`CSRF_HEADER_NAME`).
 */

export const CONFIG_ELEMENT_ID = "sockpuppet-config"

export const DEFAULTS = Object.freeze({
  url: "/sockpuppet/",
  csrfToken: "",
  csrfCookieName: "csrftoken",
  csrfHeader: "X-CSRFToken",
  transports: ["websocket", "sse", "longpoll"],
  debug: false,
  autostart: true,
  protocol: 1,
  probeTimeout: 3000,
  reflexTimeout: 30000,
  queueTimeout: 30000,
  queueLimit: 100,
  backoffBase: 250,
  backoffCap: 10000,
})

/** Merges the config element's JSON text over the defaults (pure: text and cookie in). */
export function parseConfig(text, cookie = "") {
  let given = {}
  if (text) {
    try {
      const parsed = JSON.parse(text)
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) given = parsed
    } catch (error) {
      console.error("[sockpuppet] #sockpuppet-config is not valid JSON", error)
    }
  }
  const config = { ...DEFAULTS, ...given }
  if (!config.url.endsWith("/")) config.url += "/"
  if (!config.csrfToken) config.csrfToken = cookieValue(cookie, config.csrfCookieName || "csrftoken") || ""
  return config
}

/**
 * The CSRF token to send now: the live cookie when the page can read it (it follows a
 * rotation: a login in a reflex, or in another tab), else the newest token the page got.
 */
export function csrfTokenOf(config, cookie) {
  return (config.csrfCookieName && cookieValue(cookie, config.csrfCookieName)) || config.csrfToken || ""
}

/** Reads the configuration from the page. */
export function readConfig(document) {
  const element = document.getElementById(CONFIG_ELEMENT_ID)
  return parseConfig(element ? element.textContent : "", document.cookie)
}

/** The value of cookie `name` in a `document.cookie` string, or null. */
export function cookieValue(cookie, name) {
  for (const part of (cookie || "").split(";")) {
    const index = part.indexOf("=")
    if (index !== -1 && part.slice(0, index).trim() === name) {
      return decodeURIComponent(part.slice(index + 1).trim())
    }
  }
  return null
}
