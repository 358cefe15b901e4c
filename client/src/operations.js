/**
 * The DOM operations of docs/protocol.md, by name, and how a message's list is applied.
 *
 * Operations run in order. One that fails (bad selector, missing target, a throwing
 * setter) is reported and skipped: the rest still run, and the reflex they answer
 * settles as an error that names it.
 * Focus lost during the list goes back to the element that had it, caret included.
 */

import { morph } from "./morph.js"

const camelize = (name) => String(name).replace(/-([a-z])/g, (_, letter) => letter.toUpperCase())
const classNames = (name) => (Array.isArray(name) ? name : String(name || "").split(/\s+/)).filter(Boolean)

/** Operations applied to each target element (or `document` when there is no selector). */
export const ELEMENT_OPERATIONS = {
  morph: (el, op, focused) =>
    morph(el, op.html, {
      childrenOnly: op.childrenOnly,
      selector: op.selector,
      permanentAttributeName: op.permanentAttributeName,
      focused,
    }),
  inner_html: (el, op) => (el.innerHTML = op.html ?? ""),
  outer_html: (el, op) => (el.outerHTML = op.html ?? ""),
  replace: (el, op) => (el.outerHTML = op.html ?? ""),
  text_content: (el, op) => (el.textContent = op.text ?? ""),
  insert_adjacent_html: (el, op) => el.insertAdjacentHTML(op.position || "beforeend", op.html ?? ""),
  insert_adjacent_text: (el, op) => el.insertAdjacentText(op.position || "beforeend", op.text ?? ""),
  append: (el, op) => el.insertAdjacentHTML("beforeend", op.html ?? ""),
  prepend: (el, op) => el.insertAdjacentHTML("afterbegin", op.html ?? ""),
  remove: (el) => el.remove(),
  set_attribute: (el, op) => el.setAttribute(op.name, op.value ?? ""),
  remove_attribute: (el, op) => el.removeAttribute(op.name),
  add_css_class: (el, op) => el.classList.add(...classNames(op.name)),
  remove_css_class: (el, op) => el.classList.remove(...classNames(op.name)),
  set_value: (el, op) => (el.value = op.value ?? ""),
  set_property: (el, op) => (el[op.name] = op.value),
  set_dataset_property: (el, op) => (el.dataset[camelize(op.name)] = op.value),
  set_style: (el, op) =>
    String(op.name).includes("-") ? el.style.setProperty(op.name, op.value) : (el.style[op.name] = op.value),
  set_focus: (el) => el.focus(),
  dispatch_event: (el, op) =>
    el.dispatchEvent(new CustomEvent(op.name, { bubbles: true, cancelable: true, detail: op.detail ?? {} })),
}

/** Operations on the page as a whole: they ignore `selector`. */
export const PAGE_OPERATIONS = {
  console_log: (op) => {
    const level = typeof console[op.level] === "function" ? op.level : "log"
    console[level](op.message)
  },
  push_state: (op, window) => window.history.pushState(op.state ?? {}, op.title ?? "", op.url),
  replace_state: (op, window) => window.history.replaceState(op.state ?? {}, op.title ?? "", op.url),
  redirect_to: (op, window) => window.location.assign(navigable(op.url, window)),
  reload: (op, window) => window.location.reload(),
  set_title: (op, window) => (window.document.title = op.title ?? ""),
}

/** `url` resolved against the page, if it is a web page's; a `javascript:` or `data:` URL
 * (which the server refuses to send too) would run in this page instead. */
function navigable(url, window) {
  const resolved = new URL(String(url ?? ""), window.location.href)
  if (resolved.protocol !== "http:" && resolved.protocol !== "https:") {
    throw new Error(`refused to go to a ${resolved.protocol} URL`)
  }
  return resolved.href
}

/**
 * Applies a message's operations to `document`, in order; `warn` reports missing targets.
 * Returns what went wrong (e.g. `nothing on this page matches "#x"`), for a reflex to fail with.
 */
export function applyOperations(operations, { document, warn = console.warn } = {}) {
  const focus = rememberFocus(document)
  const problems = []
  for (const op of Array.isArray(operations) ? operations : []) {
    try {
      const problem = apply(op, document, focus.element)
      if (problem) {
        problems.push(problem)
        warn(`[sockpuppet] ${problem}`)
      }
    } catch (error) {
      problems.push(`${op && op.op} on "${op && op.selector}" failed: ${error.message}`)
      console.error(`[sockpuppet] operation ${op && op.op} on ${op && op.selector} failed`, error)
    }
  }
  focus.restore()
  return problems
}

/** `focused`: the element that had the focus before the list began (a morph keeps its value). */
function apply(op, document, focused) {
  const name = op && op.op
  if (PAGE_OPERATIONS[name]) {
    PAGE_OPERATIONS[name](op, document.defaultView)
    return null
  }
  const operation = ELEMENT_OPERATIONS[name]
  if (!operation) return `unknown operation "${name}"`
  const targets = findTargets(document, op)
  if (!targets.length) return `${name}: nothing on this page matches "${op.selector}"`
  for (const target of targets) operation(target, op, focused)
  return null
}

function findTargets(document, op) {
  if (!op.selector) return [document]
  if (op.selectAll) return Array.from(document.querySelectorAll(op.selector))
  const element = document.querySelector(op.selector)
  return element ? [element] : []
}

function rememberFocus(document) {
  const element = document.activeElement
  let start = null
  let end = null
  try {
    start = element.selectionStart
    end = element.selectionEnd
  } catch {
    // inputs such as email or number have no selection
  }
  return {
    element,
    restore() {
      const now = document.activeElement
      if (!element || element === document.body || !element.isConnected) return
      if (now && now !== document.body && now !== document.documentElement) return
      element.focus({ preventScroll: true })
      if (start !== null && start !== undefined && typeof element.setSelectionRange === "function") {
        try {
          element.setSelectionRange(start, end)
        } catch {
          // not every input type takes a selection
        }
      }
    },
  }
}
