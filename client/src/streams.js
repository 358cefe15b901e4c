/**
 * Named streams. `{% sockpuppet_stream %}` renders an element carrying
 * `data-sockpuppet-stream="<signed name>"`. The names present when a transport opens go
 * in its `streams` parameter (so the server resumes them from the cursor too); a name
 * that appears later is sent as a `subscribe` message, and an `unsubscribe` goes out when
 * the last element naming a stream leaves the page.
 */

const ATTRIBUTE = "data-sockpuppet-stream"

export class Streams {
  /** `send(message)` returns false when not connected (the next `opened` catches up). */
  constructor(document, send) {
    this.document = document
    this.send = send
    this.subscribed = new Set()
    this.refused = new Set()
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
  names() {
    const names = new Set()
    for (const element of this.document.querySelectorAll(`[${ATTRIBUTE}]`)) {
      const name = element.getAttribute(ATTRIBUTE)
      if (name && !this.refused.has(name)) names.add(name)
    }
    return [...names]
  }

  /** The server refused a name (forged or tampered with): stop sending it. */
  refuse(name) {
    this.refused.add(name)
    this.subscribed.delete(name)
  }

  /** After a (re)connect whose transport was opened with `streams`: catch up with the page. */
  opened(streams = []) {
    this.subscribed = new Set(streams)
    this.sync()
  }

  sync() {
    const wanted = new Set(this.names())
    for (const stream of wanted) {
      if (!this.subscribed.has(stream) && this.send({ type: "subscribe", stream })) this.subscribed.add(stream)
    }
    for (const stream of [...this.subscribed]) {
      if (!wanted.has(stream) && this.send({ type: "unsubscribe", stream })) this.subscribed.delete(stream)
    }
  }
}
