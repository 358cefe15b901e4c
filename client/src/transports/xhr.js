/**
 * A `fetch`-shaped request made with `XMLHttpRequest`, for the HTTP transports' short
 * requests (a poll, a `POST send`). Chromium hands an XHR's complete body to the page in
 * the task that ends the request, where `fetch` resolves the response first and reads
 * the body in tasks of their own, so the page's reaction to a poll's answer (and its next
 * paint) waited for them: ~0.5 ms a round trip, measured in
 * `loadtest/results/2026-12-07-steps.md`. The SSE stream, which is read as it comes,
 * stays on `fetch`.
 *
 * A JSON body that is whole when it first reaches the page (a poll's answer, written in
 * one piece) is answered then, at `readyState` 3, without waiting for the end of the
 * response: Chromium tells the page of that end in a later task, after it has handled a
 * `202` that arrived meanwhile (the answer's own `POST`'s, sent right behind it): 0.5–1 ms
 * a long-poll round trip, measured in `loadtest/results/2026-12-07-long-poll-page.md`.
 * No part of a JSON array or object parses but the whole (its last character closes the
 * outermost bracket), so a body still on its way is answered at its end as before.
 *
 * Only what the transports use: `method`, `headers`, `body` and `signal` (an abort
 * rejects with an `AbortError`, as `fetch` does); the answer has `ok`, `status` and
 * `json()`. Cookies go with same-origin requests only, as with `fetch`'s
 * `credentials: "same-origin"`; `cache` is ignored (the server answers `no-store`).
 */

export function xhrRequest(url, { method = "GET", headers = {}, body = null, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(aborted())
    const xhr = new XMLHttpRequest()
    const abort = () => xhr.abort()
    let answered = false
    const answer = (parsed) => {
      if (answered) return
      answered = true
      resolve(response(xhr, parsed))
    }
    xhr.open(method, url)
    for (const [header, value] of Object.entries(headers)) xhr.setRequestHeader(header, value)
    xhr.onreadystatechange = () => {
      if (xhr.readyState !== LOADING || answered) return
      const parsed = wholeJSON(xhr.responseText)
      if (parsed !== UNREAD) answer(parsed)
    }
    xhr.onload = () => answer(UNREAD)
    // Like fetch's "Failed to fetch", without the query: it holds the token. (After an
    // early answer, a failure of the rest of the response changes nothing.)
    xhr.onerror = () => reject(new TypeError(`${method} ${url.split("?")[0]} failed`))
    xhr.ontimeout = xhr.onerror
    xhr.onabort = () => reject(aborted())
    // One AbortSignal may serve many requests (the sender's): let go of it after each.
    xhr.onloadend = () => signal && signal.removeEventListener("abort", abort)
    if (signal) signal.addEventListener("abort", abort)
    xhr.send(body)
  })
}

const LOADING = 3
const UNREAD = Symbol("unread")

/** The value of `text` if it is a whole JSON array or object, else `UNREAD`. */
function wholeJSON(text) {
  const last = text.trimEnd().slice(-1)
  if (last !== "]" && last !== "}") return UNREAD
  try {
    return JSON.parse(text)
  } catch {
    return UNREAD
  }
}

/** The answer: `json()` gives `parsed`, or parses the body as it is at the end. */
function response(xhr, parsed) {
  const text = parsed === UNREAD ? xhr.responseText : null
  return {
    ok: xhr.status >= 200 && xhr.status < 300,
    status: xhr.status,
    json: async () => (parsed === UNREAD ? JSON.parse(text) : parsed),
  }
}

function aborted() {
  return new DOMException("The request was aborted.", "AbortError")
}
