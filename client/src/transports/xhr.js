/**
 * A `fetch`-shaped request made with `XMLHttpRequest`, for the HTTP transports' short
 * requests (a poll, a `POST send`). Chromium hands an XHR's complete body to the page in
 * the task that ends the request, where `fetch` resolves the response first and reads
 * the body in tasks of their own, so the page's reaction to a poll's answer (and its next
 * paint) waited for them: ~0.5 ms a round trip, measured in
 * `loadtest/results/2026-12-07-steps.md`. The SSE stream, which is read as it comes,
 * stays on `fetch`.
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
    xhr.open(method, url)
    for (const [header, value] of Object.entries(headers)) xhr.setRequestHeader(header, value)
    xhr.onload = () => resolve(answer(xhr))
    // Like fetch's "Failed to fetch", without the query: it holds the token.
    xhr.onerror = () => reject(new TypeError(`${method} ${url.split("?")[0]} failed`))
    xhr.ontimeout = xhr.onerror
    xhr.onabort = () => reject(aborted())
    // One AbortSignal may serve many requests (the sender's): let go of it after each.
    xhr.onloadend = () => signal && signal.removeEventListener("abort", abort)
    if (signal) signal.addEventListener("abort", abort)
    xhr.send(body)
  })
}

function answer(xhr) {
  const text = xhr.responseText
  return {
    ok: xhr.status >= 200 && xhr.status < 300,
    status: xhr.status,
    json: async () => JSON.parse(text),
  }
}

function aborted() {
  return new DOMException("The request was aborted.", "AbortError")
}
