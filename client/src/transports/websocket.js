/**
 * WebSocket transport: `GET {url}ws?token=…&since=…&streams=…`, one JSON message per text frame,
 * each way. Frames sent before the socket opens wait for it (the probe's ping is one).
 * A close with code 4001 means the token was refused: the connection negotiates again.
 */

export const name = "websocket"

const TOKEN_REFUSED = 4001

/** The socket's URL: ws(s) on the same host as `base`, the page's base URL of the endpoints. */
export function endpoint(base, token, since = "", streams = []) {
  const url = new URL("ws", base)
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
  url.searchParams.set("token", token)
  if (since) url.searchParams.set("since", since)
  if (streams.length) url.searchParams.set("streams", streams.join(","))
  return url.href
}

/** Opens a socket; see `transports/index.js` for the handle it returns. */
export function open({ url, token, since, streams = () => [], onmessage, onclose, timers = globalThis, WebSocket = globalThis.WebSocket }) {
  let closed = false
  let waiting = []
  let socket
  try {
    socket = new WebSocket(endpoint(url, token, since, streams()))
  } catch (error) {
    closed = true
    timers.setTimeout(() => onclose({ reason: String(error) }), 0)
    return { send() {}, close() {} }
  }

  socket.onopen = () => {
    for (const frame of waiting) socket.send(frame)
    waiting = []
  }
  socket.onmessage = (event) => {
    if (closed) return
    let data
    try {
      data = JSON.parse(event.data)
    } catch {
      console.warn("[sockpuppet] websocket: a frame that is not JSON was ignored")
      return
    }
    for (const message of Array.isArray(data) ? data : [data]) {
      if (!closed) onmessage(message)
    }
  }
  socket.onclose = (event) => {
    if (closed) return
    closed = true
    onclose({ code: event.code, reason: event.reason || `closed (${event.code})`, fatal: event.code === TOKEN_REFUSED })
  }

  return {
    send(message) {
      if (closed) return
      const frame = JSON.stringify(message)
      if (socket.readyState === 1) socket.send(frame)
      else if (socket.readyState === 0) waiting.push(frame)
    },
    close() {
      if (closed) return
      closed = true
      socket.onopen = socket.onmessage = socket.onclose = null
      socket.close(1000)
    },
  }
}
