/**
 * Form serialization: every field of the form, blanks and repeated keys included, as an
 * URL-encoded string (what Django's `QueryDict` parses into `reflex.params`).
 */

/** URL-encodes `[name, value]` pairs; a File becomes its file name. */
export function encodeForm(entries) {
  const params = new URLSearchParams()
  for (const [name, value] of entries) {
    params.append(name, typeof value === "string" ? value : (value && value.name) || "")
  }
  return params.toString()
}

/** The pairs a submission of `form` by `submitter` would send. */
export function formEntries(form, submitter = null) {
  const entries = Array.from(new FormData(form))
  if (submitter && submitter.name && !submitter.disabled) {
    entries.push([submitter.name, submitter.value || ""])
  }
  return entries
}

/** Whether `element` is a submit button (the submitter of a form submission). */
export function isSubmitButton(element) {
  const tag = element.tagName
  const type = (element.getAttribute("type") || "").toLowerCase()
  if (tag === "BUTTON") return type === "" || type === "submit"
  return tag === "INPUT" && (type === "submit" || type === "image")
}
