/**
 * Reflexes that have no answer yet, in the order they were made.
 *
 * Each one is either `queued` (never handed to a transport: made while disconnected) or
 * `sent` (handed to a transport at least once). On every (re)connect, `flush()` hands all
 * of them over again, in order, with their ids: a reflex whose answer was lost with the
 * old connection is re-sent, and the server, which dedupes by id, never runs it twice.
 * An answer replayed by the resumed stream arrives before the transport is proven (the
 * server replays first), so `take()` has already removed that reflex by then.
 *
 * Queued reflexes are bounded (`limit`) and expire after `queueTimeout`; a sent reflex
 * expires `replyTimeout` after it was first sent. The outbox never settles anything
 * itself: it hands expired reflexes to `onexpire`.
 *
 * Unless the server said nothing at all since it was sent (`heardSince(time)` false): a
 * live connection carries a heartbeat within every 30 s of silence, so the reflex went
 * into a connection that died without closing (a NAT's timeout, a Wi-Fi roam), not to a
 * slow server. Then `onsilent()` has the connection replaced, and the reflex waits once
 * more, to be re-sent on the new one (the server runs an id once).
 */

export class Outbox {
  constructor({
    send,
    onexpire,
    heardSince = () => true,
    onsilent = () => {},
    limit = 100,
    queueTimeout = 30000,
    replyTimeout = 30000,
    timers = globalThis,
    now = Date.now,
  }) {
    this.send = send
    this.onexpire = onexpire
    this.heardSince = heardSince
    this.onsilent = onsilent
    this.now = now
    this.limit = limit
    this.queueTimeout = queueTimeout
    this.replyTimeout = replyTimeout
    this.timers = timers
    this.entries = new Map()
  }

  /** Adds a reflex (`{id, message}`) and sends it if connected; false when the queue is full. */
  add(reflex) {
    if (this.entries.has(reflex.id)) throw new Error(`reflex ${reflex.id} is already waiting`)
    if (this.queued >= this.limit) return false
    const entry = { reflex, state: "queued", timer: null }
    entry.timer = this.timers.setTimeout(() => this.#expire(entry), this.queueTimeout)
    this.entries.set(reflex.id, entry)
    this.#hand(entry)
    return true
  }

  /** Removes the reflex answered by `id` and returns it; null if unknown or already settled. */
  take(id) {
    const entry = this.entries.get(id)
    if (!entry) return null
    this.timers.clearTimeout(entry.timer)
    this.entries.delete(id)
    return entry.reflex
  }

  /** Hands every waiting reflex to the transport again, oldest first (on each connect). */
  flush() {
    for (const entry of [...this.entries.values()]) {
      if (!this.#hand(entry)) break
    }
  }

  /** Removes the reflexes handed to a transport and not answered, and returns them,
   * oldest first (their answers went to a connection that is gone for good). */
  takeSent() {
    const sent = [...this.entries.values()].filter((entry) => entry.state === "sent")
    for (const entry of sent) this.take(entry.reflex.id)
    return sent.map((entry) => entry.reflex)
  }

  /** How many reflexes were never sent. */
  get queued() {
    let count = 0
    for (const entry of this.entries.values()) if (entry.state === "queued") count++
    return count
  }

  get size() {
    return this.entries.size
  }

  #hand(entry) {
    if (!this.send(entry.reflex.message)) return false
    if (entry.state === "queued") {
      entry.state = "sent"
      entry.sentAt = this.now()
      this.timers.clearTimeout(entry.timer)
      entry.timer = this.timers.setTimeout(() => this.#expire(entry), this.replyTimeout)
    }
    return true
  }

  #expire(entry) {
    if (this.entries.get(entry.reflex.id) !== entry) return
    if (entry.state === "sent" && !entry.waitedAgain && !this.heardSince(entry.sentAt)) {
      entry.waitedAgain = true
      entry.timer = this.timers.setTimeout(() => this.#expire(entry), this.replyTimeout)
      this.onsilent()
      return
    }
    this.entries.delete(entry.reflex.id)
    const reason =
      entry.state === "queued"
        ? `not sent: no connection within ${Math.round(this.queueTimeout / 1000)} s`
        : `no answer within ${Math.round((this.now() - entry.sentAt) / 1000)} s (it may still run on the server: a late answer is still applied)`
    this.onexpire(entry.reflex, reason)
  }
}
