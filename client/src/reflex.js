/**
 * Building the `reflex` message (docs/protocol.md) from an element: its attributes, its
 * `data-*` with full names (`data-post-id` -> `"post-id"`), the morph roots from
 * `data-reflex-root`, and the serialized form.
 */

import { encodeForm, formEntries, isSubmitButton } from "./form.js"

export const PERMANENT_ATTRIBUTE = "data-reflex-permanent"

const FORM_CONTROLS = new Set(["INPUT", "SELECT", "TEXTAREA", "BUTTON", "OPTION", "OUTPUT"])
const DATASET_KEYWORDS = new Set(["combined", "ancestors", "parent", "children", "siblings", "descendants"])
const OPTION_KEYS = [
  "id",
  "reflexId", // StimulusReflex's name for `id`
  "resolveLate", // StimulusReflex's: the promise always settles after the answer is applied
  "attrs",
  "selectors",
  "serializeForm",
  "formSelector",
  "params",
  "includeInnerHTML",
  "includeTextContent",
]

/** The whole message for one reflex. */
export function buildReflex({ id, target, element, options = {}, args = [], event = null, tabId, url }) {
  const message = {
    type: "reflex",
    id,
    target: target || null,
    args,
    url,
    attrs: options.attrs || elementAttributes(element),
    dataset: collectDataset(element),
    selectors: reflexRoots(element, options.selectors),
    formData: serializeForm(element, options, event),
    params: options.params || {},
    permanentAttributeName: PERMANENT_ATTRIBUTE,
    tabId,
  }
  if (options.includeInnerHTML || element.hasAttribute("data-reflex-include-inner-html")) {
    message.innerHTML = element.innerHTML
  }
  if (options.includeTextContent || element.hasAttribute("data-reflex-include-text-content")) {
    message.textContent = element.textContent
  }
  return message
}

/** Splits `stimulate`'s rest arguments: `(element?, options?, ...args)`. */
export function splitStimulateArgs(rest) {
  const args = [...rest]
  const element = args.length && isElement(args[0]) ? args.shift() : null
  const options = args.length && isOptions(args[0]) ? args.shift() : {}
  return { element, options, args }
}

function isElement(value) {
  return value != null && typeof value === "object" && value.nodeType === 1
}

/** An options object is a plain object naming at least one known option (as in SR). */
function isOptions(value) {
  if (value == null || typeof value !== "object" || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  return OPTION_KEYS.some((key) => key in value)
}

/** The element's attributes plus its live state, as the server's `element.attrs`. */
export function elementAttributes(element) {
  const attrs = {}
  for (const { name, value } of Array.from(element.attributes || [])) attrs[name] = value
  attrs.tag_name = element.tagName
  attrs.checked = Boolean(element.checked)
  attrs.selected = Boolean(element.selected)
  attrs.values = valuesOf(element)
  attrs.value = FORM_CONTROLS.has(element.tagName)
    ? element.multiple ? attrs.values.join(",") : String(element.value ?? "")
    : element.getAttribute("value") ?? ""
  return attrs
}

function valuesOf(element) {
  if (element.tagName === "SELECT") {
    return Array.from(element.selectedOptions || [], (option) => option.value)
  }
  const type = (element.type || "").toLowerCase()
  if (element.tagName === "INPUT" && (type === "checkbox" || type === "radio") && element.name) {
    const scope = element.form || element.ownerDocument
    return Array.from(scope.querySelectorAll(`input[type="${type}"]`))
      .filter((input) => input.name === element.name && input.checked)
      .map((input) => input.value)
  }
  return FORM_CONTROLS.has(element.tagName) ? [String(element.value ?? "")] : []
}

/** `data-*` attributes keyed by their full name without the prefix. */
export function dataAttributes(element) {
  const data = {}
  for (const { name, value } of Array.from(element.attributes || [])) {
    if (name.startsWith("data-")) data[name.slice(5)] = value
  }
  return data
}

/** The element's data merged with the sources named in `data-reflex-dataset` (nearer wins). */
export function collectDataset(element) {
  const dataset = dataAttributes(element)
  const spec = element.getAttribute("data-reflex-dataset")
  if (!spec) return dataset
  for (const source of datasetSources(element, spec)) {
    for (const [key, value] of Object.entries(dataAttributes(source))) {
      if (!(key in dataset)) dataset[key] = value
    }
  }
  return dataset
}

function datasetSources(element, spec) {
  const tokens = spec.trim().split(/\s+/)
  if (!tokens.every((token) => DATASET_KEYWORDS.has(token))) {
    try {
      return Array.from(element.ownerDocument.querySelectorAll(spec))
    } catch {
      console.warn(`[sockpuppet] data-reflex-dataset: "${spec}" is not a valid selector`)
      return []
    }
  }
  const sources = []
  for (const token of tokens) {
    if (token === "combined" || token === "ancestors") {
      for (let node = element.parentElement; node; node = node.parentElement) sources.push(node)
    } else if (token === "parent") {
      if (element.parentElement) sources.push(element.parentElement)
    } else if (token === "children") {
      sources.push(...element.children)
    } else if (token === "siblings") {
      const parent = element.parentElement
      if (parent) sources.push(...Array.from(parent.children).filter((node) => node !== element))
    } else if (token === "descendants") {
      sources.push(...element.querySelectorAll("*"))
    }
  }
  return sources
}

/** Morph roots for a page morph: the option, else `data-reflex-root` on the element or an ancestor. */
export function reflexRoots(element, override) {
  if (override) return splitSelectors(override)
  for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
    const value = node.getAttribute("data-reflex-root")
    if (value) return splitSelectors(value)
  }
  return []
}

/** A comma list (or an array) of selectors as a clean array. */
export function splitSelectors(value) {
  const list = Array.isArray(value) ? value : String(value).split(",")
  return list.map((selector) => String(selector).trim()).filter(Boolean)
}

/** The element's form, URL-encoded, unless serialization is turned off. */
export function serializeForm(element, options = {}, event = null) {
  const attribute = element.getAttribute("data-reflex-serialize-form")
  const serialize = options.serializeForm ?? attribute !== "false"
  if (!serialize) return ""
  const selector = options.formSelector || element.getAttribute("data-reflex-form-selector")
  const form = selector ? element.ownerDocument.querySelector(selector) : element.closest("form")
  if (!form || form.tagName !== "FORM") return ""
  let submitter = null
  if (event && event.type === "submit") submitter = event.submitter || null
  else if (isSubmitButton(element) && element.form === form) submitter = element
  return encodeForm(formEntries(form, submitter))
}
