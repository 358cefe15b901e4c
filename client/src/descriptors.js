/**
 * `data-reflex` descriptors: space-separated `event->Class#method` tokens.
 *
 * `event` alone (`data-reflex="click"`) is a refresh reflex (target null);
 * `Class#method` alone uses the element's default event, as Stimulus does.
 */

export function parseDescriptors(value) {
  const descriptors = []
  for (const token of (value || "").trim().split(/\s+/)) {
    if (!token) continue
    const arrow = token.indexOf("->")
    if (arrow !== -1) {
      const event = token.slice(0, arrow)
      if (event) descriptors.push({ event, target: token.slice(arrow + 2) || null })
    } else if (token.includes("#")) {
      descriptors.push({ event: null, target: token })
    } else {
      descriptors.push({ event: token, target: null })
    }
  }
  return descriptors
}

/** The event a descriptor without one listens to, by element (Stimulus' defaults). */
export function defaultEventFor(element) {
  const tag = (element.tagName || "").toUpperCase()
  if (tag === "FORM") return "submit"
  if (tag === "SELECT") return "change"
  if (tag === "TEXTAREA") return "input"
  if (tag === "INPUT") {
    const type = (element.type || "text").toLowerCase()
    return ["submit", "button", "reset", "image"].includes(type) ? "click" : "input"
  }
  return "click"
}

/** The event name a descriptor listens to on `element`. */
export function eventOf(descriptor, element) {
  return descriptor.event || defaultEventFor(element)
}
