/**
 * `window.Sockpuppet`: the connection, the reflexes, the DOM wiring and Stimulus, put
 * together for one page. Everything below it is built to be tested alone; this module
 * only connects their callbacks.
 */

import { Application, Controller as StimulusController } from "@hotwired/stimulus"
import { csrfTokenOf, readConfig } from "./config.js"
import { Connection } from "./connection.js"
import { controllerFor, defineController, registerController } from "./controller.js"
import { Delegation } from "./delegation.js"
import { createLog } from "./log.js"
import { applyOperations } from "./operations.js"
import { splitStimulateArgs } from "./reflex.js"
import { ANSWERS, Reflexes } from "./reflexes.js"
import { Streams } from "./streams.js"
import { TRANSPORTS } from "./transports/index.js"
import { uuid } from "./uuid.js"

const COOKIES_TIMEOUT_MS = 10_000
const NAVIGATIONS = ["redirect_to", "reload"]
const RENEWED = "no answer before the connection was renewed (a new token); it may have run, so it is not sent again"
// Messages for the transport and the cursor, with nothing for the page to do.
const QUIET = ["heartbeat", "subscribed", "unsubscribed"]

/** Whether applying `message` leaves the page. */
const navigates = (message) =>
  Array.isArray(message.operations) && message.operations.some((op) => op && NAVIGATIONS.includes(op.op))

export function createSockpuppet(window) {
  const { document } = window
  const config = readConfig(document)
  let debug = Boolean(config.debug)
  const log = createLog(() => debug)
  const tabId = uuid()
  let started = false
  let allowed = null
  let resyncing = false
  let cookiesStored = Promise.resolve() // settles once every `POST cookies` so far is answered

  const dispatch = (name, detail = {}) => document.dispatchEvent(new CustomEvent(`sockpuppet:${name}`, { detail }))
  const send = (message) => connection.send(message)

  const connection = new Connection({
    url: new URL(config.url, window.location.href).href,
    csrfToken: () => csrfTokenOf(config, document.cookie),
    csrfHeader: config.csrfHeader,
    transports: config.transports,
    registry: TRANSPORTS,
    storage: sessionStorageOf(window),
    probeTimeout: config.probeTimeout,
    backoff: { base: config.backoffBase, cap: config.backoffCap },
    log: log.debug,
    onmessage: receive,
    streams: () => streams.names(),
    onopen({ transport, reconnected, renewed, streams: followed }) {
      streams.opened(followed)
      // Reflexes sent on a connection that is gone for good (its token refused) may have
      // run: they fail rather than run twice, and the page is rendered anew.
      const unanswered = renewed ? reflexes.abandonSent(RENEWED) : 0
      reflexes.flush()
      dispatch("connected", { transport })
      if (reconnected) dispatch("reconnected", { transport })
      if (unanswered) resync({ reason: `connection renewed with ${unanswered} reflex(es) unanswered` })
    },
    onclose({ transport }) {
      dispatch("disconnected", { transport })
    },
  })
  const reflexes = new Reflexes({
    window,
    send,
    log,
    tabId,
    config,
    heardSince: (time) => connection.heardSince(time),
    onsilent: () => connection.replace("silent while reflexes waited"),
  })
  const streams = new Streams(document, send)
  const delegation = new Delegation(document, (element, target, event) => {
    reflexes.stimulate({ target, element, event, controller: controllerFor(element) }).catch(() => {})
  })

  function receive(message) {
    if (message.type === "error" && message.refusedStream) streams.refuse(message.refusedStream)
    if (typeof message.csrfToken === "string" && message.csrfToken) config.csrfToken = message.csrfToken
    if (ANSWERS.includes(message.type)) {
      // Leaving the page before the cookies a reflex set are stored would load the next
      // page without them (a login, then a redirect): such an answer waits for them, and
      // for the POSTs on their way (an HTTP transport's answer carries them).
      if (navigates(message)) beforeLeaving().then(() => reflexes.receive(message))
      else reflexes.receive(message)
    } else if (message.type === "resync") resync(message)
    else if (message.type === "cookies") storeCookies(message.token)
    else if (!QUIET.includes(message.type)) log.debug("message of unknown type ignored", message)
  }

  /** Settles once cookies on their way are stored (at most `COOKIES_TIMEOUT_MS`). */
  function beforeLeaving() {
    const stored = Promise.all([cookiesStored, connection.settled()])
    return Promise.race([stored, new Promise((resolve) => window.setTimeout(resolve, COOKIES_TIMEOUT_MS))])
  }

  /**
   * A reflex changed cookies (a login, a signed-cookie session) over a WebSocket: let the
   * server set them. One request at a time, in order: each token carries only what its
   * reflex changed, and an older answer landing last would put back an older session.
   */
  function storeCookies(token) {
    cookiesStored = cookiesStored.then(() => postCookies(token))
  }

  /** `POST cookies` with `token`; settles (never rejects) once answered, failed or timed out. */
  function postCookies(token) {
    const url = new URL("cookies", new URL(config.url, window.location.href)).href
    const timeout = window.AbortSignal && window.AbortSignal.timeout
    return window
      .fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token }),
        signal: timeout ? window.AbortSignal.timeout(COOKIES_TIMEOUT_MS) : undefined,
      })
      .then((response) => {
        if (!response.ok) log.warn(`could not store the cookies a reflex set: HTTP ${response.status}`)
      })
      .catch((error) => log.warn("could not store the cookies a reflex set", error))
  }

  /** The server could not replay what was missed: render the whole page again. */
  function resync(message) {
    dispatch("resync", { reason: message.reason })
    if (resyncing) return
    resyncing = true
    reflexes
      .stimulate({ element: document.body, options: { serializeForm: false } })
      .catch(() => window.location.reload())
      .finally(() => (resyncing = false))
  }

  /** `stimulate` for the API and for controllers: `args` is `[target, element?, options?, ...args]`. */
  function stimulate(controller, [target, ...rest]) {
    const { element, options, args } = splitStimulateArgs(rest)
    const owner = element || (controller && controller.element) || document.body
    return reflexes.stimulate({ target, element: owner, options, args, controller: controller || controllerFor(owner) })
  }

  function start(options = {}) {
    if (options.debug !== undefined) debug = Boolean(options.debug)
    delegation.start()
    streams.start()
    // Without `transports`, the page's last choice stands (a start() after stop()).
    const wanted = Array.isArray(options.transports)
      ? [...options.transports]
      : options.transports === undefined
        ? allowed
        : null
    const running = started && connection.state !== "closed"
    if (running && (options.transports === undefined || String(wanted) === String(allowed))) return
    started = true
    allowed = wanted
    connection.start(allowed)
  }

  const application = Application.start(document.documentElement)
  if (!window.Stimulus) window.Stimulus = application

  window.addEventListener("online", () => connection.wake())
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") connection.wake()
  })

  let booted = false
  const boot = () => {
    if (booted) return
    booted = true
    delegation.start()
    streams.start()
    if (!started && config.autostart !== false) start()
  }
  if (document.readyState === "complete") boot()
  else {
    document.addEventListener("DOMContentLoaded", boot, { once: true })
    window.addEventListener("load", boot, { once: true })
  }

  return {
    get transport() {
      return connection.transport
    },
    get connected() {
      return connection.state === "open"
    },
    get state() {
      return connection.state
    },
    get debug() {
      return debug
    },
    set debug(value) {
      debug = Boolean(value)
    },
    tabId,
    config,
    application,
    Stimulus: { Application, Controller: StimulusController },
    Controller: defineController(stimulate),
    stimulate: (target, ...rest) => stimulate(null, [target, ...rest]),
    start,
    stop: () => connection.stop(),
    register: (controller) => registerController(controller, stimulate),
    perform: (operations) => applyOperations(operations, { document, warn: log.warn }),
  }
}

function sessionStorageOf(window) {
  try {
    return window.sessionStorage
  } catch {
    return null
  }
}
