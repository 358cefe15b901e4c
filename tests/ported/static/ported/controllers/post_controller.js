// The blog's Stimulus controller, as written for django-sockpuppet. Changed lines end in
// "ported:" comments; tests/ported/README.md lists them with the reason.
// ported: was `import { Controller } from 'stimulus'` and `import StimulusReflex from 'stimulus_reflex'`.
// Without a bundler the page has only the client bundle's Stimulus, which exposes no plain
// Controller; Sockpuppet.Controller's base class is that Controller (README: "Gaps").
const Controller = window.Sockpuppet.Stimulus.Controller

export default class extends Controller {
  connect () {
    window.Sockpuppet.register(this) // ported: was `StimulusReflex.register(this)`
  }

  rate (event) {
    event.preventDefault()
    this.stimulate('BlogReflex#rate', 5)
  }

  beforeReflex (element, reflex) {
    this.note('beforeReflex', element, reflex)
  }

  reflexSuccess (element, reflex) {
    this.note('reflexSuccess', element, reflex)
  }

  reflexError (element, reflex, error) {
    this.note('reflexError', element, reflex, error)
  }

  afterReflex (element, reflex) {
    this.note('afterReflex', element, reflex)
  }

  finalizeReflex (element, reflex) {
    this.note('finalizeReflex', element, reflex)
  }

  beforeLike (element, reflex) {
    this.note('beforeLike', element, reflex)
  }

  likeSuccess (element, reflex) {
    this.note('likeSuccess', element, reflex)
  }

  afterLike (element, reflex) {
    this.note('afterLike', element, reflex)
  }

  beforeRate (element, reflex) {
    this.note('beforeRate', element, reflex)
  }

  rateSuccess (element, reflex) {
    this.note('rateSuccess', element, reflex)
  }

  afterRate (element, reflex) {
    this.note('afterRate', element, reflex)
  }

  // The page's activity list (data-reflex-permanent, so morphs leave it alone).
  note (callback, element, reflex, error) {
    const item = document.createElement('li')
    item.textContent = [callback, element.id, reflex, error].filter(Boolean).join(' ')
    document.getElementById('activity').append(item)
  }
}
