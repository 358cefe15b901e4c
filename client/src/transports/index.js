/**
 * Transports by short name, the names the server lists in `transports`.
 *
 * A transport module exports `name` and `open(context)`. `context` holds:
 *   url        absolute base URL of the endpoints, ending in "/"
 *   token      the negotiated token
 *   since      the encoded cursor when opening ("" means "from now")
 *   cursor()   the encoded cursor now (a long-poll sends it with every poll)
 *   streams()  signed names of the page's named streams now, for the `streams` parameter
 *   session    the whole negotiate answer (`heartbeat`, `longpollTimeout`, …)
 *   fetch, timers   what to make requests and timers with (fakes in tests)
 *   request    fetch-shaped, for short requests whose whole answer is read at once (a poll,
 *              a `POST send`): `XMLHttpRequest` in a browser (`xhr.js`); `fetch` if absent
 *   onmessage(message), onclose({code?, reason?, fatal?})   (`fatal`: token refused)
 * `open` returns a handle `{send(message), close()}`; `send` may be called at once (the
 * transport buffers until ready) and must keep the order of messages. A handle whose
 * sends take a while to be answered also has `settled()`: a promise that settles once
 * none is on its way. Callbacks run
 * asynchronously (never inside `open`) and never after `close()` or after `onclose`.
 * The transport never reconnects by itself: it reports `onclose` and the connection
 * decides. Adding a transport is adding its module to this table.
 */

import * as longpoll from "./longpoll.js"
import * as sse from "./sse.js"
import * as websocket from "./websocket.js"

export const TRANSPORTS = Object.freeze({
  [websocket.name]: websocket,
  [sse.name]: sse,
  [longpoll.name]: longpoll,
})
