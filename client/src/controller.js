/**
 * Stimulus integration. `Controller` is a Stimulus controller with `stimulate()`; its
 * instances (and any controller passed to `register`) receive the lifecycle callbacks of
 * their reflexes. Instances are tracked by element in a WeakMap when they are built, so
 * lookups work whichever Stimulus application runs them and add nothing to the DOM.
 */

import { Controller as StimulusController } from "@hotwired/stimulus"

const byElement = new WeakMap()

function track(controller) {
  const element = controller.element
  if (!byElement.has(element)) byElement.set(element, new Set())
  byElement.get(element).add(controller)
}

/** The nearest Sockpuppet controller on `element` or its ancestors, or null. */
export function controllerFor(element) {
  for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
    const candidates = byElement.get(node)
    if (!candidates) continue
    const identifiers = (node.getAttribute("data-controller") || "").split(/\s+/)
    for (const identifier of identifiers) {
      for (const controller of candidates) {
        if (controller.identifier === identifier) return controller
      }
    }
  }
  return null
}

/** The `Controller` class, whose `stimulate(...args)` calls `stimulate(controller, args)`. */
export function defineController(stimulate) {
  // Not named "Controller": esbuild, not minifying, gives the imported StimulusController
  // that name too, and `class Controller extends Controller` cannot initialise.
  return class SockpuppetController extends StimulusController {
    constructor(context) {
      super(context)
      track(this)
    }

    /** Triggers a reflex: `(target, element?, options?, ...args)`; element defaults to this controller's. */
    stimulate(...args) {
      return stimulate(this, args)
    }
  }
}

/** Gives an existing controller instance `stimulate()` and the lifecycle callbacks. */
export function registerController(controller, stimulate) {
  track(controller)
  controller.stimulate = (...args) => stimulate(controller, args)
  return controller
}
