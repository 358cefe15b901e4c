/**
 * The life of each reflex, from `stimulate` to its one settlement.
 *
 * A reflex settles exactly once: by its answer (`operations`, `nothing`, `halted`,
 * `forbidden`, `error` with its `reflexId`) or by expiring in the outbox. Whatever comes
 * first takes it out of the outbox; anything later about the same id finds nothing to
 * settle (operations are still applied: the server's state did change).
 */

import { runStage, SEQUENCES } from "./lifecycle.js"
import { applyOperations } from "./operations.js"
import { Outbox } from "./outbox.js"
import { buildReflex } from "./reflex.js"
import { uuid } from "./uuid.js"

export const ANSWERS = ["operations", "nothing", "halted", "forbidden", "error"]

export class Reflexes {
  constructor({ window, send, log, tabId, config, heardSince, onsilent }) {
    this.window = window
    this.log = log
    this.tabId = tabId
    this.outbox = new Outbox({
      send,
      onexpire: (reflex, reason) => this.settle(reflex, "error", { message: `${reflex.target || "refresh"}: ${reason}` }),
      heardSince,
      onsilent,
      limit: config.queueLimit,
      queueTimeout: config.queueTimeout,
      replyTimeout: config.reflexTimeout,
    })
  }

  /** Starts a reflex; the promise settles once (see `settle`). */
  stimulate({ target = null, element, options = {}, args = [], controller = null, event = null }) {
    const id = options.id || options.reflexId || uuid()
    let resolve, reject
    const promise = new Promise((ok, fail) => {
      resolve = ok
      reject = fail
    })
    const message = buildReflex({ id, target, element, options, args, event, tabId: this.tabId, url: this.window.location.href })
    const reflex = { id, target: message.target, element, controller, message, resolve, reject, startedAt: performance.now() }
    runStage(reflex, "before")
    let refusal = null
    try {
      if (!this.outbox.add(reflex)) refusal = "too many reflexes are waiting for a connection"
    } catch (error) {
      refusal = error.message
    }
    if (refusal) this.settle(reflex, "error", { message: refusal })
    else this.log.debug(`${describe(reflex)} ${this.outbox.queued ? "queued" : "sent"}`, id)
    return promise
  }

  /** Handles a server answer (one of `ANSWERS`). */
  receive(message) {
    let problems = []
    if (message.type === "operations") {
      problems = applyOperations(message.operations, { document: this.window.document, warn: this.log.warn })
    }
    if (message.reflexId == null) {
      if (message.type === "error") this.log.error("server error:", message.message)
      return
    }
    const reflex = this.outbox.take(message.reflexId)
    if (!reflex) return this.log.debug(`answer for unknown or settled reflex ${message.reflexId} ignored`)
    // A morph that found no place in this page did not do what the reflex meant: it fails,
    // with the selector named (the rest of its operations are applied).
    if (problems.length) this.settle(reflex, "error", { message: problems.join("; ") })
    else this.settle(reflex, message.type === "operations" ? "success" : message.type, message)
  }

  /** Settles the reflexes sent and not answered as failed, and returns how many there
   * were: after a new connection (a new token, see `Connection`), a reflex that ran had
   * its answer sent to the old one, and sending it again could run it twice. */
  abandonSent(reason) {
    const unanswered = this.outbox.takeSent()
    for (const reflex of unanswered) this.settle(reflex, "error", { message: `${describe(reflex)}: ${reason}` })
    return unanswered.length
  }

  /** Hands every waiting reflex to the transport again (after each connect). */
  flush() {
    this.outbox.flush()
  }

  settle(reflex, outcome, { message, traceback, payload } = {}) {
    const error = outcome === "error" ? message || "the reflex failed" : undefined
    const elapsed = Math.round(performance.now() - reflex.startedAt)
    const line = `${describe(reflex)} ${outcome} in ${elapsed} ms`
    // The server's traceback (DEBUG on) goes with it, where a developer looks first.
    if (error !== undefined) this.log.error(`${line}: ${error}`, reflex.id, ...(traceback ? [`\n${traceback}`] : []))
    else this.log.debug(line, reflex.id)
    for (const stage of SEQUENCES[outcome]) runStage(reflex, stage, error)
    const { id, element, target } = reflex
    if (error !== undefined) {
      reflex.reject(Object.assign(new Error(error), { reflexId: id, target, element, outcome, traceback }))
    } else {
      reflex.resolve({ id, element, target, event: outcome, outcome, payload })
    }
  }
}

function describe(reflex) {
  return reflex.target || "(refresh)"
}
