/**
 * Long-poll transport: `GET {url}poll?token=…&since=…&streams=…` answers a JSON array of
 * server messages when some exist or the hold (`longpollTimeout`) expires; the next poll
 * starts as soon as the page has handled them, with the cursor as it is then, which
 * acknowledges the previous batch (a batch lost on the way is delivered again). Client
 * messages go by `POST send`. Both are made with `request` (`XMLHttpRequest` in a browser,
 * see `xhr.js`).
 */

import { httpEndpoint, refusal, Sender } from "./http.js"

export const name = "longpoll"

// A poll gets this long past the server's hold before it counts as lost.
const GRACE = 10000
// An empty answer (an older server, a proxy) waits this long before the next poll.
const EMPTY_PAUSE = 1000

export function open({ url, token, cursor, streams = () => [], session = {}, fetch, request = fetch, timers = globalThis, onmessage, onclose }) {
  let closed = false
  let abort = null
  const hold = Number(session.longpollTimeout || 25) * 1000
  const fail = (info) => {
    if (closed) return
    closed = true
    if (abort) abort.abort()
    sender.close()
    onclose(info)
  }
  const sender = new Sender({ url: httpEndpoint(url, "send", { token, transport: name }), request, onfail: fail })

  const poll = async () => {
    abort = new AbortController()
    const timer = timers.setTimeout(() => abort.abort(), hold + GRACE)
    try {
      const response = await request(httpEndpoint(url, "poll", { token, since: cursor(), streams: streams().join(",") }), {
        credentials: "same-origin",
        cache: "no-store",
        signal: abort.signal,
      })
      if (!response.ok) return fail(refusal(response.status))
      const messages = await response.json()
      if (!Array.isArray(messages)) return fail({ reason: "poll answered something else than a list" })
      for (const message of messages) {
        if (closed) return
        onmessage(message)
      }
      if (!messages.length) await new Promise((resolve) => timers.setTimeout(resolve, EMPTY_PAUSE))
    } catch (error) {
      return fail({ reason: `poll failed: ${error.message || error}` })
    } finally {
      timers.clearTimeout(timer)
    }
    // The next poll starts in a task of its own: what the page does with these messages
    // (mutation observers, promise callbacks, the next paint) does not wait for its request.
    if (!closed) timers.setTimeout(poll, 0)
  }
  timers.setTimeout(poll, 0)

  return {
    send(message) {
      if (!closed) sender.send(message)
    },
    settled: () => sender.settled(),
    close() {
      if (closed) return
      closed = true
      if (abort) abort.abort()
      sender.close()
    },
  }
}
