// Test doubles shared by the client tests: a manual clock and a scripted transport.

/** Timers that run only when the test advances time. */
export class FakeClock {
  constructor() {
    this.time = 0
    this.nextId = 1
    this.timers = new Map()
    this.setTimeout = (callback, delay = 0) => {
      const id = this.nextId++
      this.timers.set(id, { at: this.time + delay, callback })
      return id
    }
    this.clearTimeout = (id) => this.timers.delete(id)
    this.now = () => this.time
  }

  /** Runs every timer due within `ms`, in time order, letting promises settle in between. */
  async advance(ms) {
    const end = this.time + ms
    for (;;) {
      await flush()
      const due = [...this.timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0]
      if (!due) break
      this.timers.delete(due[0])
      this.time = Math.max(this.time, due[1].at)
      due[1].callback()
    }
    this.time = end
    await flush()
  }

  get pending() {
    return this.timers.size
  }
}

/** Lets queued promise callbacks run. */
export async function flush() {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

/**
 * A transport whose behaviour a test scripts: `answerPings` (pong at once), `refuse`
 * (close at once), otherwise silent. Every opened handle is recorded in `opened`.
 */
export function fakeTransport(name, behaviour = {}) {
  const transport = {
    name,
    opened: [],
    behaviour,
    open(context) {
      const handle = {
        context,
        streams: context.streams ? context.streams() : [],
        sent: [],
        closed: false,
        send(message) {
          handle.sent.push(message)
          if (message.type === "ping" && transport.behaviour.answerPings) {
            queueMicrotask(() => handle.deliver({ type: "pong", id: message.id }))
          }
        },
        close() {
          handle.closed = true
        },
        deliver(message) {
          if (!handle.closed) context.onmessage(message)
        },
        drop(info = {}) {
          if (handle.closed) return
          handle.closed = true
          context.onclose(info)
        },
      }
      transport.opened.push(handle)
      if (transport.behaviour.refuse) queueMicrotask(() => handle.drop({ code: 1006, reason: "refused" }))
      return handle
    },
    get last() {
      return transport.opened[transport.opened.length - 1]
    },
  }
  return transport
}

/**
 * A fetch that answers negotiate with `session` (after `failures` failures, `refusals`
 * 403 answers, or one hang).
 */
const CSRF_REFUSAL = { status: 403, json: async () => ({ type: "error", message: "CSRF check failed: CSRF token incorrect." }) }

export function fakeFetch(session, { failures = 0, refusals = 0, refusal = CSRF_REFUSAL, hang = false } = {}) {
  const calls = []
  const fetch = async (url, init) => {
    calls.push({ url, init })
    if (hang && calls.length === 1) {
      return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new Error("aborted"))))
    }
    if (calls.length <= failures) throw new TypeError("network down")
    if (calls.length <= failures + refusals) {
      return { ok: false, ...refusal }
    }
    // A function gives each negotiate its own answer (a new connection id, as a server does).
    const answer = typeof session === "function" ? session(calls.length) : session
    return { ok: true, status: 200, json: async () => structuredClone(answer) }
  }
  fetch.calls = calls
  return fetch
}
