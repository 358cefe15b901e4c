/**
 * Transports by short name, the names the server lists in `transports`.
 *
 * A transport module exports `name` and `open(context)`, where `context` holds `url`
 * (absolute base URL of the endpoints, ending in "/"), `token`, `since` (the encoded
 * cursor, "" for "from now"), `session` (the whole negotiate answer: `heartbeat`,
 * `longpollTimeout`, …), `timers`, and the callbacks `onmessage(message)` and
 * `onclose({code?, reason?, fatal?})` (`fatal`: the token was refused). `open` returns a
 * handle `{send(message), close()}`; `send` may be called at once (buffer until ready).
 * Callbacks run asynchronously, never inside `open`, and never after `close()` or after
 * `onclose`. Adding a transport is adding its module to this table.
 */

import * as websocket from "./websocket.js"

export const TRANSPORTS = Object.freeze({
  [websocket.name]: websocket,
})
