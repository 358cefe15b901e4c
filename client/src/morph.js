/**
 * Morphing with morphdom, under the rules that keep a page usable while it changes:
 * elements carrying the permanent attribute are never touched (nor their subtree), and
 * the focused text-like control keeps its live value, focus and caret (it takes every
 * other new attribute). The HTML is parsed in a <template>, so table parts and other
 * context-sensitive fragments parse as they would in place.
 *
 * A subtree whose new HTML equals what the page shows is skipped whole (a native
 * `isEqualNode` instead of morphdom's walk): a page morph re-renders the whole body, and
 * most of it is the same. Form controls are never skipped: morphdom puts their live value,
 * checked and selected state back to the server's, which equal markup does not show.
 */

import morphdom from "morphdom"
import { PERMANENT_ATTRIBUTE } from "./reflex.js"

const FORM_CONTROLS = "input,textarea,select,option"
const NOT_TEXT_LIKE = new Set(["checkbox", "radio", "submit", "button", "reset", "image", "file", "hidden"])

/**
 * Morphs `target` into `html` (see the `morph` operation in docs/protocol.md). `focused`:
 * the control the user was in before the operations began (by default, the one focused
 * now). It is asked for, not looked up during the walk: morphdom moves a node whose
 * siblings change (new HTML above it), and a moved node has lost its focus by the time
 * morphdom reaches it, which would put its value back to the server's.
 */
export function morph(target, html, { childrenOnly = false, selector = null, permanentAttributeName, focused } = {}) {
  const active = focused === undefined ? target.ownerDocument.activeElement : focused
  const options = morphOptions(active, permanentAttributeName || PERMANENT_ATTRIBUTE)
  const fragment = parse(target.ownerDocument, html)
  const single = soleElement(fragment)
  if (childrenOnly) {
    const content = single && sameElement(single, target) ? single.childNodes : fragment.childNodes
    morphdom(target, wrap(target, content), { ...options, childrenOnly: true })
  } else if (single && (sameElement(single, target) || matches(single, selector))) {
    morphdom(target, single, options)
  } else {
    morphdom(target, wrap(target, fragment.childNodes), { ...options, childrenOnly: true })
  }
}

function parse(document, html) {
  const template = document.createElement("template")
  template.innerHTML = html == null ? "" : String(html)
  return template.content
}

/** The fragment's only element, when whitespace and comments are all that surround it. */
function soleElement(fragment) {
  let element = null
  for (const node of fragment.childNodes) {
    if (node.nodeType === 1) {
      if (element) return null
      element = node
    } else if (node.nodeType === 3 && node.textContent.trim()) {
      return null
    }
  }
  return element
}

function sameElement(element, target) {
  return Boolean(target.id) && element.id === target.id && element.tagName === target.tagName
}

function matches(element, selector) {
  try {
    return Boolean(selector) && element.matches(selector)
  } catch {
    return false
  }
}

/** A detached twin of `target` holding `nodes`, for a children-only morph. */
function wrap(target, nodes) {
  const wrapper = target.cloneNode(false)
  wrapper.append(...Array.from(nodes))
  return wrapper
}

function morphOptions(focused, permanent) {
  return {
    onBeforeElUpdated(from, to) {
      if (from.hasAttribute(permanent)) return false
      if (from === focused && isTextLike(from)) {
        copyAttributesExceptValue(from, to)
        return false
      }
      return !unchanged(from, to)
    },
  }
}

function unchanged(from, to) {
  return from.isEqualNode(to) && !from.matches(FORM_CONTROLS) && !from.querySelector(FORM_CONTROLS)
}

export function isTextLike(element) {
  if (element.tagName === "TEXTAREA" || element.tagName === "SELECT") return true
  return element.tagName === "INPUT" && !NOT_TEXT_LIKE.has((element.type || "text").toLowerCase())
}

function copyAttributesExceptValue(from, to) {
  for (const { name, value } of Array.from(to.attributes)) {
    if (name !== "value" && from.getAttribute(name) !== value) from.setAttribute(name, value)
  }
  for (const { name } of Array.from(from.attributes)) {
    if (name !== "value" && !to.hasAttribute(name)) from.removeAttribute(name)
  }
}
