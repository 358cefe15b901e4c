/**
 * Named-stream subscriptions. `{% sockpuppet_stream %}` renders an element carrying
 * `data-sockpuppet-stream="<signed name>"`; while such an element is in the page, the
 * connection is subscribed to that stream. Subscriptions are sent again after every
 * (re)connect, and an `unsubscribe` goes out when the last element naming a stream leaves.
 */

const ATTRIBUTE = "data-sockpuppet-stream"

export class Streams {
  /** `send(message)` returns false when not connected (the next `resubscribe` catches up). */
  constructor(document, send) {
    this.document = document
    this.send = send
    this.subscribed = new Set()
    this.observer = null
  }

  start() {
    if (this.observer) return
    this.observer = new MutationObserver(() => this.sync())
    this.observer.observe(this.document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: [ATTRIBUTE],
    })
  }

  /** The signed names present in the page now. */
  wanted() {
    const names = new Set()
    for (const element of this.document.querySelectorAll(`[${ATTRIBUTE}]`)) {
      const name = element.getAttribute(ATTRIBUTE)
      if (name) names.add(name)
    }
    return names
  }

  /** After a (re)connect: the server is told every stream again. */
  resubscribe() {
    this.subscribed.clear()
    this.sync()
  }

  sync() {
    const wanted = this.wanted()
    for (const stream of wanted) {
      if (!this.subscribed.has(stream) && this.send({ type: "subscribe", stream })) this.subscribed.add(stream)
    }
    for (const stream of [...this.subscribed]) {
      if (!wanted.has(stream) && this.send({ type: "unsubscribe", stream })) this.subscribed.delete(stream)
    }
  }
}
