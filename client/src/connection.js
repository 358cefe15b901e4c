/**
 * The connection to the server, as an explicit state machine.
 *
 *     idle ──start──▶ connecting ──token──▶ probing ──pong──▶ open
 *                        ▲                    │ no pong: next transport
 *                        │                    ▼ none left
 *                        └──── backoff ─── reconnecting ◀── lost (close, silence)
 *     any state ──stop──▶ closed ──start──▶ connecting
 *
 * `connecting` negotiates a token when it has none; `probing` opens one transport and
 * accepts it only after a `ping` -> `pong` round trip within `probeTimeout` (a proxy that
 * refuses WebSockets or buffers a stream fails here, and the next transport is tried).
 *
 * The connection owns what outlives a transport: the token (one per page; negotiated
 * again only after a `fatal` close such as WebSocket code 4001), the cursor of stream
 * positions (sent as `since`; duplicates are dropped here), and the transport that worked
 * where the page's first choice did not (remembered in sessionStorage and tried first by
 * every page of the tab that allows it; a page that narrows the list to its first choice
 * proves nothing about the network, so it leaves the memory alone). Transports only move
 * messages; see `transports/index.js` for their interface.
 */

import { backoffDelay } from "./backoff.js"
import { Cursor } from "./cursor.js"
import { xhrRequest } from "./transports/xhr.js"
import { uuid } from "./uuid.js"

export const PROTOCOL = 1
export const STORAGE_KEY = "sockpuppet:transport"
const SILENCE_FACTOR = 2.5
const STABLE_AFTER = 5000
const NEGOTIATE_TIMEOUT = 10000

const TRANSITIONS = {
  idle: ["connecting", "closed"],
  connecting: ["connecting", "probing", "reconnecting", "closed"],
  probing: ["connecting", "probing", "open", "reconnecting", "closed"],
  open: ["connecting", "reconnecting", "closed"],
  reconnecting: ["connecting", "closed"],
  closed: ["connecting"],
}

export class Connection {
  constructor({
    url,
    csrfToken = () => "",
    csrfHeader = "X-CSRFToken",
    transports = ["websocket", "sse", "longpoll"],
    registry,
    onmessage = () => {},
    onopen = () => {},
    onclose = () => {},
    onstate = () => {},
    streams = () => [],
    fetch = (...args) => globalThis.fetch(...args),
    request = typeof XMLHttpRequest === "function" ? xhrRequest : fetch,
    timers = globalThis,
    random = Math.random,
    now = Date.now,
    storage = null,
    probeTimeout = 3000,
    backoff = {},
    log = () => {},
  }) {
    Object.assign(this, { url, csrfToken, registry, onmessage, onopen, onclose, onstate, fetch, request, timers })
    Object.assign(this, { streams, random, now, storage, probeTimeout, backoff, log, csrfHeader })
    this.serverTransports = transports
    this.allowed = null
    this.cursor = new Cursor()
    this.session = null
    this.negotiating = null // the negotiate under way, if any
    this.state = "idle"
    this.handle = null
    this.name = null
    this.probing = null
    this.accepted = null
    this.generation = 0
    this.attempt = 0
    this.retryTimer = null
    this.checking = null // the timer of a wake()'s ping, while it waits
    this.watchdog = null
    this.lastMessageAt = 0
    this.openedAt = 0
    this.everOpened = false
  }

  /** The name of the transport in use, or null when not open. */
  get transport() {
    return this.state === "open" ? this.name : null
  }

  /** Connects (again), trying only `allowed` transports (page order) when given. */
  start(allowed = null) {
    this.allowed = allowed
    const name = this.#drop()
    this.#connect()
    if (name) this.onclose({ transport: name })
  }

  /** Closes the connection for good (until the next `start`). */
  stop() {
    if (this.state === "closed") return
    const name = this.#drop()
    this.#to("closed")
    if (name) this.onclose({ transport: name })
  }

  /** Settles once the open transport has no message on its way to the server. */
  settled() {
    return this.handle && this.handle.settled ? this.handle.settled() : Promise.resolve()
  }

  /** Hands a message to the open transport; false when there is none. */
  send(message) {
    if (this.state !== "open") return false
    this.handle.send(message)
    return true
  }

  /** Whether any message came from the server at or after `time` (a `now()` value). */
  heardSince(time) {
    return this.lastMessageAt >= time
  }

  /** The open transport is taken for dead (`reason`): a new one is connected now. */
  replace(reason) {
    if (this.state === "open") this.#lost({ reason })
    else this.wake()
  }

  /**
   * Called when the page comes back (online, visible): retry now, with the backoff from its
   * start; or prove the open transport with a ping, and replace it when nothing comes back
   * within `probeTimeout` (a network change or a NAT's timeout can leave a socket that
   * looks open and is dead, which the silence watchdog would find only much later).
   */
  wake() {
    if (this.state === "reconnecting") {
      this.timers.clearTimeout(this.retryTimer)
      this.retryTimer = null
      this.attempt = 0
      this.#connect()
    } else if (this.state === "open" && this.#silenceLimit() && this.now() - this.lastMessageAt > this.#silenceLimit()) {
      this.#lost({ reason: "silent" })
    } else if (this.state === "open" && !this.checking) {
      const since = this.now()
      const handle = this.handle
      this.checking = this.timers.setTimeout(() => {
        this.checking = null
        if (this.handle === handle && !this.heardSince(since)) this.#lost({ reason: "no pong after wake" })
      }, this.probeTimeout)
      this.send({ type: "ping", id: `wake-${since}` })
    }
  }

  #to(state) {
    if (!TRANSITIONS[this.state].includes(state)) {
      throw new Error(`sockpuppet: illegal connection transition ${this.state} -> ${state}`)
    }
    const previous = this.state
    this.state = state
    this.log(`connection ${previous} -> ${state}`)
    this.onstate(state, previous)
  }

  /** Abandons whatever is in progress; returns the transport's name if one was open. */
  #drop() {
    const wasOpen = this.state === "open"
    this.generation++
    this.timers.clearTimeout(this.retryTimer)
    this.timers.clearTimeout(this.watchdog)
    this.retryTimer = null
    if (this.probing) this.probing.finish(false)
    if (this.handle) this.handle.close()
    this.handle = null
    return wasOpen ? this.name : null
  }

  async #connect() {
    const generation = this.generation
    const stale = () => generation !== this.generation
    this.#to("connecting")
    if (!this.session) {
      try {
        // One negotiate at a time: a second one (a `start` while the first is under way)
        // could bind its token to another new session than the cookie the browser keeps.
        this.negotiating ||= this.#negotiate().finally(() => (this.negotiating = null))
        this.session = await this.negotiating
      } catch (error) {
        if (stale()) return
        this.log(`negotiate failed: ${error.message}`)
        if (error.status && !this.refusalReported) {
          // Refused, not unreachable: retrying may not help (a CSRF failure); say so once.
          this.refusalReported = true
          console.error(`[sockpuppet] the server refused to connect this page, retrying: ${error.message}`)
        }
        return this.#retry()
      }
      if (stale()) return
    }
    const { candidates, first } = this.#candidates()
    if (!candidates.length) {
      console.error("[sockpuppet] no usable transport: the server offers", this.session.transports, "the page allows", this.allowed)
      return this.#to("closed")
    }
    for (const name of candidates) {
      this.#to("probing")
      const { handle, fatal, streams } = await this.#probe(name)
      if (stale()) return handle && handle.close()
      if (handle) return this.#opened(name, handle, streams, { first, tried: candidates })
      if (fatal) {
        this.session = null
        break
      }
    }
    if (this.session && !this.failureReported) {
      // Said once until a transport opens (debug logs say more): a page that cannot
      // connect at all (a proxy refusing every transport) is otherwise silent.
      this.failureReported = true
      console.warn(`[sockpuppet] no transport worked (${candidates.join(", ")}); retrying in the background`)
    }
    this.#retry()
  }

  async #negotiate() {
    const abort = typeof AbortController === "function" ? new AbortController() : null
    const timer = this.timers.setTimeout(() => abort && abort.abort(), NEGOTIATE_TIMEOUT)
    let session
    try {
      const response = await this.fetch(`${this.url}negotiate`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", [this.csrfHeader]: this.csrfToken() },
        body: "{}",
        signal: abort ? abort.signal : undefined,
      })
      if (!response.ok) throw await refusedNegotiate(response)
      session = await response.json()
    } finally {
      this.timers.clearTimeout(timer)
    }
    if (!session || typeof session.token !== "string") throw new Error("negotiate gave no token")
    if (session.protocol !== undefined && session.protocol !== PROTOCOL) {
      console.warn(`[sockpuppet] server speaks protocol ${session.protocol}, this client ${PROTOCOL}`)
    }
    return session
  }

  /**
   * Transports to try, in order: allowed by server, page and registry; the remembered one
   * first. `first` is the page's own first choice (the first without the memory).
   */
  #candidates() {
    const offered = Array.isArray(this.session.transports) ? this.session.transports : this.serverTransports
    const wanted = this.allowed ? this.allowed.filter((name) => offered.includes(name)) : [...offered]
    const names = wanted.filter((name) => this.registry[name])
    const first = names[0]
    const remembered = this.#remembered()
    if (remembered && names.includes(remembered)) {
      names.splice(names.indexOf(remembered), 1)
      names.unshift(remembered)
    }
    return { candidates: names, first }
  }

  /** Opens transport `name` and waits for the pong; resolves `{handle, streams}` or `{fatal}`. */
  #probe(name) {
    return new Promise((resolve) => {
      const probe = { id: uuid(), handle: null, timer: null, streams: [...this.streams()] }
      probe.finish = (ok, info = {}) => {
        if (this.probing !== probe) return
        this.probing = null
        // Messages that follow the pong in the same chunk (an SSE stream's catch-up) arrive
        // before the awaiting code makes this handle current: they must not be dropped.
        if (ok) this.accepted = probe.handle
        this.timers.clearTimeout(probe.timer)
        if (!ok) {
          probe.handle.close()
          this.log(`${name}: not accepted (${info.reason || info.code || "abandoned"})`)
        }
        resolve(ok ? { handle: probe.handle, streams: probe.streams } : { fatal: Boolean(info.fatal) })
      }
      this.log(`${name}: probing`)
      try {
        probe.handle = this.#open(name, probe)
      } catch (error) {
        console.error(`[sockpuppet] ${name} transport failed to open`, error)
        return resolve({})
      }
      this.probing = probe
      probe.timer = this.timers.setTimeout(() => probe.finish(false, { reason: "no pong in time" }), this.probeTimeout)
      probe.handle.send({ type: "ping", id: probe.id })
    })
  }

  #open(name, probe) {
    return this.registry[name].open({
      url: this.url,
      token: this.session.token,
      since: this.cursor.encode(),
      cursor: () => this.cursor.encode(),
      streams: () => [...this.streams()],
      session: this.session,
      fetch: this.fetch,
      request: this.request,
      timers: this.timers,
      onmessage: (message) => this.#receive(probe.handle, message),
      onclose: (info) => this.#closed(probe.handle, info),
    })
  }

  #opened(name, handle, streams, order) {
    this.handle = handle
    this.accepted = null
    this.name = name
    this.openedAt = this.lastMessageAt = this.now()
    this.#remember(name, order)
    this.#to("open")
    this.refusalReported = false
    this.failureReported = false
    this.#armWatchdog()
    const reconnected = this.everOpened
    // A new connection id (a fatal close made the client negotiate again): what was
    // answered on the old one cannot be resumed here.
    const renewed = reconnected && this.session.connectionId !== this.openedConnectionId
    this.everOpened = true
    this.openedConnectionId = this.session.connectionId
    this.onopen({ transport: name, reconnected, renewed, streams })
  }

  #receive(handle, message) {
    const probing = this.probing && this.probing.handle === handle
    if (handle !== this.handle && handle !== this.accepted && !probing) return
    this.lastMessageAt = this.now()
    if (handle === this.handle) this.#armWatchdog()
    if (!message || typeof message !== "object") return
    // A heartbeat's (and a `subscribed`'s) `since`: where following each stream began.
    if (message.since && typeof message.since === "object") this.cursor.seed(message.since)
    if (message.type === "heartbeat") {
      // positions only
    } else if (message.type === "resync" && typeof message.stream === "string" && Number.isInteger(message.position)) {
      this.cursor.reset(message.stream, message.position)
    } else if (!this.cursor.accept(message)) {
      this.log(`duplicate ${message.stream}@${message.position} dropped`)
      return
    }
    if (message.type === "pong") {
      if (probing && message.id === this.probing.id) this.probing.finish(true)
      return
    }
    this.onmessage(message)
  }

  #closed(handle, info = {}) {
    if (this.probing && this.probing.handle === handle) return this.probing.finish(false, info)
    if (handle === this.handle) this.#lost(info)
  }

  /** The open transport died (closed, or silent too long). */
  #lost(info) {
    this.log(`${this.name}: lost (${info.reason || info.code || "closed"})`)
    if (info.fatal) this.session = null
    if (this.now() - this.openedAt >= STABLE_AFTER) this.attempt = 0
    const name = this.#drop()
    this.#retry()
    this.onclose({ transport: name, reason: info.reason || info.code })
  }

  #retry() {
    this.#to("reconnecting")
    const delay = backoffDelay(this.attempt++, { ...this.backoff, random: this.random })
    this.log(`reconnecting in ${delay} ms`)
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null
      this.#connect()
    }, delay)
  }

  #silenceLimit() {
    const heartbeat = this.session && Number(this.session.heartbeat)
    return heartbeat > 0 ? heartbeat * 1000 * SILENCE_FACTOR : 0
  }

  #armWatchdog() {
    const limit = this.#silenceLimit()
    if (!limit) return
    this.timers.clearTimeout(this.watchdog)
    this.watchdog = this.timers.setTimeout(() => this.#lost({ reason: "silent" }), limit)
  }

  #remembered() {
    try {
      return this.storage ? this.storage.getItem(STORAGE_KEY) : null
    } catch {
      return null
    }
  }

  /**
   * Remembers `name` when it worked where the page's first choice did not. When the first
   * choice worked, a remembered transport tried before it failed: it is forgotten. A
   * remembered transport this page did not allow is left as it is.
   */
  #remember(name, { first, tried }) {
    try {
      if (!this.storage) return
      const remembered = this.storage.getItem(STORAGE_KEY)
      if (name !== first) this.storage.setItem(STORAGE_KEY, name)
      else if (remembered && remembered !== name && tried.includes(remembered)) this.storage.removeItem(STORAGE_KEY)
    } catch {
      // storage may be unavailable (sandboxed frames, privacy modes); remembering is optional
    }
  }
}

/** The error for a negotiate the server refused: its status and the server's message. */
async function refusedNegotiate(response) {
  let detail = ""
  try {
    const body = await response.json()
    if (body && typeof body.message === "string") detail = `: ${body.message}`
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  if (response.status === 404 && !detail) {
    // Django answered, not Sockpuppet: the site runs without Sockpuppet's ASGI application
    detail = ": is the site served by sockpuppet.asgi.get_asgi_application() under an ASGI server (uvicorn project.asgi:application)? manage.py runserver serves Django only"
  }
  const error = new Error(`negotiate answered HTTP ${response.status}${detail}`)
  error.status = response.status
  return error
}
