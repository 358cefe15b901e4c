/**
 * Wiring of `data-reflex` by event delegation: one capture-phase listener on `document`
 * per event type named in any `data-reflex` attribute (found at start, then by a
 * MutationObserver). Nothing is ever written on the user's elements, so a morph cannot
 * strip the wiring, and an element added by a morph works as soon as it is in the page
 * (observer callbacks run before the next user event).
 */

import { eventOf, parseDescriptors } from "./descriptors.js"
import { isSubmitButton } from "./form.js"

const ATTRIBUTE = "data-reflex"

export class Delegation {
  /** `trigger(element, target, event)` is called for each matching descriptor. */
  constructor(document, trigger) {
    this.document = document
    this.trigger = trigger
    this.types = new Set()
    this.handle = this.handle.bind(this)
    this.observer = null
  }

  start() {
    if (this.observer) return
    this.scan(this.document.documentElement)
    this.observer = new MutationObserver((records) => {
      for (const record of records) {
        if (record.type === "attributes") this.scan(record.target)
        else for (const node of record.addedNodes) this.scan(node)
      }
    })
    this.observer.observe(this.document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: [ATTRIBUTE],
    })
  }

  /** Listens to every event type that `root` and its descendants name. */
  scan(root) {
    if (!root || root.nodeType !== 1) return
    if (root.hasAttribute(ATTRIBUTE)) this.wire(root)
    for (const element of root.querySelectorAll(`[${ATTRIBUTE}]`)) this.wire(element)
  }

  wire(element) {
    for (const descriptor of parseDescriptors(element.getAttribute(ATTRIBUTE))) {
      const type = eventOf(descriptor, element)
      if (this.types.has(type)) continue
      this.types.add(type)
      this.document.addEventListener(type, this.handle, true)
    }
  }

  /** Triggers the reflexes of the event's target and, for bubbling events, its ancestors (nearest first). */
  handle(event) {
    let node = event.target
    if (node && node.nodeType !== 1) node = node.parentElement
    for (; node && node.nodeType === 1; node = event.bubbles ? node.parentElement : null) {
      if (!node.hasAttribute(ATTRIBUTE)) continue
      for (const descriptor of parseDescriptors(node.getAttribute(ATTRIBUTE))) {
        if (eventOf(descriptor, node) !== event.type) continue
        if (event.type === "submit" || (event.type === "click" && followsOrSubmits(node))) {
          event.preventDefault()
        }
        this.trigger(node, descriptor.target, event)
      }
    }
  }
}

/** A click that would navigate on its own: a link, or a form's submit button. */
function followsOrSubmits(node) {
  return (node.tagName === "A" && node.hasAttribute("href")) || (isSubmitButton(node) && node.form != null)
}
