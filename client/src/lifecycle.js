/**
 * A reflex's stages, told twice: to the Sockpuppet controller that owns the reflex
 * (callback methods, the per-action one first) and to the page (a bubbling
 * `sockpuppet:<stage>` event on the reflex's element, or on `document` once the element
 * has left it). A callback that throws is reported and does not stop the others.
 */

/** The stages after `before`, by outcome. */
export const SEQUENCES = Object.freeze({
  success: ["success", "after", "finalize"],
  nothing: ["nothing", "success", "after", "finalize"],
  halted: ["halted", "after", "finalize"],
  forbidden: ["forbidden", "after", "finalize"],
  error: ["error", "after", "finalize"],
})

const CALLBACKS = {
  before: ["before{Action}", "beforeReflex"],
  success: ["{action}Success", "reflexSuccess"],
  error: ["{action}Error", "reflexError"],
  halted: ["{action}Halted", "reflexHalted"],
  forbidden: ["{action}Forbidden", "reflexForbidden"],
  after: ["after{Action}", "afterReflex"],
  finalize: ["finalize{Action}", "finalizeReflex"],
}

/** Controller method names for a stage, per-action first: `("success", "X#do_it")` -> `["doItSuccess", "reflexSuccess"]`. */
export function callbackNames(stage, target) {
  if (!CALLBACKS[stage]) return []
  const [specific, generic] = CALLBACKS[stage]
  const action = actionOf(target)
  if (!action) return [generic]
  const capitalized = action.charAt(0).toUpperCase() + action.slice(1)
  return [specific.replace("{action}", action).replace("{Action}", capitalized), generic]
}

/** The method of `"Class#method"` in camelCase: `do_it` -> `doIt`. */
function actionOf(target) {
  const index = target ? target.indexOf("#") : -1
  if (index === -1) return ""
  return target.slice(index + 1).replace(/[-_]+([a-zA-Z0-9])/g, (_, char) => char.toUpperCase())
}

/** Runs one stage of `reflex` (`{id, target, element, controller}`); `error` is a message. */
export function runStage(reflex, stage, error = undefined) {
  const { controller, element, target, id } = reflex
  if (controller) {
    for (const name of callbackNames(stage, target)) {
      if (typeof controller[name] !== "function") continue
      try {
        controller[name](element, target, error, id)
      } catch (thrown) {
        console.error(`[sockpuppet] ${name} threw`, thrown)
      }
    }
  }
  const detail = { reflexId: id, target, element }
  if (error !== undefined) detail.error = error
  const document = element.ownerDocument || element
  const origin = element.isConnected ? element : document
  origin.dispatchEvent(new CustomEvent(`sockpuppet:${stage}`, { bubbles: true, detail }))
}
