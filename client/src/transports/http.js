/**
 * What the HTTP transports (SSE, long-poll) share: their endpoint URLs, how a refusal
 * reads, and the sender of client messages.
 *
 * The sender POSTs `send?token=…&transport=…` with `request` (fetch-shaped) one batch at a time: messages handed over
 * while a POST is on its way wait and go together in the next one. The server answers a
 * batch only once its reflexes ran, so the reflexes of one tab run in order even when its
 * POSTs land on different processes. A failed POST fails the transport (the connection
 * reconnects, and the outbox re-sends unanswered reflexes by id). `onsent(ms)` hears of
 * each acknowledged POST and how long it took; `settled()` waits until no POST is on its
 * way (its answer may set cookies the next page needs).
 */

/** `base` + `path` with the non-empty `params` as query string. */
export function httpEndpoint(base, path, params = {}) {
  const url = new URL(path, base)
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value)
  }
  return url.href
}

/** The `onclose` info for a refused HTTP request: 401 means the token is no longer valid. */
export function refusal(status) {
  return { code: status, reason: `HTTP ${status}`, fatal: status === 401 }
}

export class Sender {
  constructor({ url, request, onfail, onsent = () => {} }) {
    this.url = url
    this.request = request
    this.onfail = onfail
    this.onsent = onsent
    this.waiting = []
    this.busy = false
    this.closed = false
    this.abort = typeof AbortController === "function" ? new AbortController() : null
    this.idleWaiters = []
  }

  /** Settles once nothing is on its way or waiting to go (or the sender is closed). */
  settled() {
    if (this.#idle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  #idle() {
    return this.closed || (!this.busy && !this.waiting.length)
  }

  #notifyIdle() {
    if (this.#idle()) for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  send(message) {
    if (this.closed) return
    this.waiting.push(message)
    this.pump()
  }

  close() {
    this.closed = true
    this.waiting = []
    if (this.abort) this.abort.abort()
    this.#notifyIdle()
  }

  async pump() {
    if (this.busy || this.closed || !this.waiting.length) return
    this.busy = true
    const batch = this.waiting.splice(0)
    const started = Date.now()
    try {
      const response = await this.request(this.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(batch),
        signal: this.abort ? this.abort.signal : undefined,
      })
      if (!response.ok) return this.fail(refusal(response.status))
      if (!this.closed) this.onsent(Date.now() - started)
    } catch (error) {
      return this.fail({ reason: `send failed: ${error.message || error}` })
    } finally {
      this.busy = false
    }
    this.pump()
    this.#notifyIdle()
  }

  fail(info) {
    if (this.closed) return
    this.close()
    this.onfail(info)
  }
}
