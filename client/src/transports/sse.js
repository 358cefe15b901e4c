/**
 * Server-Sent Events transport: `GET {url}sse?token=…&since=…&streams=…` streams server
 * messages (each event's `data:` is one), client messages go by `POST send`.
 *
 * The stream is read with `fetch` rather than `EventSource`: the status of a refusal is
 * visible (401: negotiate again), and the browser never reconnects behind the
 * connection's back (the connection resumes with its own cursor instead of
 * `Last-Event-ID`). A proxy that buffers the stream keeps the probe's pong from arriving,
 * and the next transport is tried.
 *
 * A buffered stream is told apart early: the server publishes the answer to a POSTed
 * message (the probe's `pong`) before it acknowledges the POST, and the stream starts with
 * an event at once. A stream that has delivered nothing `BUFFERED_AFTER` ms after a POST
 * was acknowledged (or as long again as that POST took, if longer) is held back on the
 * way: it fails at once instead of waiting out the whole probe.
 */

import { httpEndpoint, refusal, Sender } from "./http.js"

export const name = "sse"

export const BUFFERED_AFTER = 1000

/** Parses `text/event-stream` text pushed in chunks; calls `ondata(data)` per event. */
export function createEventParser(ondata) {
  let buffer = ""
  let data = []
  const line = (text) => {
    if (text === "") {
      if (data.length) ondata(data.join("\n"))
      data = []
      return
    }
    if (text.startsWith(":")) return
    const colon = text.indexOf(":")
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? "" : text.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    if (field === "data") data.push(value)
  }
  return {
    push(chunk) {
      buffer += chunk
      const endOfLine = /\r\n|\r|\n/g
      let start = 0
      for (let match; (match = endOfLine.exec(buffer)); start = endOfLine.lastIndex) {
        // A "\r" ending the buffer may be the first half of "\r\n": wait for the next chunk.
        if (match[0] === "\r" && match.index === buffer.length - 1) break
        line(buffer.slice(start, match.index))
      }
      buffer = buffer.slice(start)
    },
  }
}

/** Opens the stream and the sender; see `transports/index.js` for the handle. */
export function open({ url, token, since, streams = () => [], fetch, request = fetch, timers = globalThis, onmessage, onclose }) {
  let closed = false
  let heard = false
  let silence = null
  const abort = new AbortController()
  const stop = () => {
    closed = true
    timers.clearTimeout(silence)
    abort.abort()
    sender.close()
  }
  const fail = (info) => {
    if (closed) return
    stop()
    onclose(info)
  }
  const sent = (elapsed) => {
    if (heard || silence !== null) return
    const wait = Math.max(BUFFERED_AFTER, elapsed)
    silence = timers.setTimeout(() => fail({ reason: `the stream delivered nothing ${wait} ms after a POST was answered: buffered on the way` }), wait)
  }
  const sender = new Sender({ url: httpEndpoint(url, "send", { token, transport: name }), request, onfail: fail, onsent: sent })
  const deliver = (data) => {
    if (closed) return
    heard = true
    timers.clearTimeout(silence)
    let message
    try {
      message = JSON.parse(data)
    } catch {
      console.warn("[sockpuppet] sse: an event that is not JSON was ignored")
      return
    }
    onmessage(message)
  }

  const read = async () => {
    try {
      const response = await fetch(httpEndpoint(url, "sse", { token, since, streams: streams().join(",") }), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "text/event-stream" },
        signal: abort.signal,
      })
      if (!response.ok) return fail(refusal(response.status))
      const reader = response.body.getReader()
      const decoder = new TextDecoder()
      const parser = createEventParser(deliver)
      for (;;) {
        const { value, done } = await reader.read()
        if (done || closed) break
        parser.push(decoder.decode(value, { stream: true }))
      }
      fail({ reason: "stream ended" })
    } catch (error) {
      fail({ reason: `stream failed: ${error.message || error}` })
    }
  }
  read()

  return {
    send(message) {
      if (!closed) sender.send(message)
    },
    settled: () => sender.settled(),
    close() {
      if (!closed) stop()
    },
  }
}
