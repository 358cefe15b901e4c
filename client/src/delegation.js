/**
 * Wiring of `data-reflex` by event delegation: one capture-phase listener on `document`
 * per event type named in any `data-reflex` attribute (found at start, then by a
 * MutationObserver). Nothing is ever written on the user's elements, so a morph cannot
 * strip the wiring, and an element added by a morph works as soon as it is in the page
 * (observer callbacks run before the next user event).
 *
 * The capture-phase listener only finds the elements whose reflexes the event names; each
 * reflex starts from a listener added for this one event on its element, so it runs after
 * the page's own listeners there, as if it were one of them (as a Stimulus action is): a
 * page handler that calls `preventDefault()` (a `confirm()` answered "Cancel"), or stops
 * the event before it reaches the element, cancels the reflex.
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
    this.prevented = new WeakSet() // events whose default this wiring prevented
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

  /** Readies the reflexes of the event's target and, for bubbling events, its ancestors
   * (nearest first), each to start as the event reaches its element. */
  handle(event) {
    let node = event.target
    if (node && node.nodeType !== 1) node = node.parentElement
    for (; node && node.nodeType === 1; node = event.bubbles ? node.parentElement : null) {
      if (!node.hasAttribute(ATTRIBUTE)) continue
      const descriptors = parseDescriptors(node.getAttribute(ATTRIBUTE)).filter(
        (descriptor) => eventOf(descriptor, node) === event.type,
      )
      if (descriptors.length === 0) continue
      const element = node
      // Listeners an element has when the event reaches it run, this one included. It
      // stays only if the event never got there (stopped): the next event removes it.
      element.addEventListener(event.type, (reached) => this.#start(reached, event, element, descriptors), {
        once: true,
      })
    }
  }

  #start(reached, event, element, descriptors) {
    if (reached !== event) return
    if (event.defaultPrevented && !this.prevented.has(event)) return // the page cancelled it
    if (event.type === "submit" || (event.type === "click" && followsOrSubmits(element))) {
      event.preventDefault()
      this.prevented.add(event) // an ancestor's reflex on the same click still starts
    }
    for (const descriptor of descriptors) this.trigger(element, descriptor.target, event)
  }
}

/** A click that would navigate on its own: a link, or a form's submit button. */
function followsOrSubmits(node) {
  return (node.tagName === "A" && node.hasAttribute("href")) || (isSubmitButton(node) && node.form != null)
}
