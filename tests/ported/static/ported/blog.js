// The blog's JavaScript entry, as written for django-sockpuppet. Changed lines end in
// "ported:" comments; tests/ported/README.md lists them with the reason.
// ported: removed `import { Application } from 'stimulus'`, `import StimulusReflex from 'stimulus_reflex'`
// and `import WebsocketConsumer from 'sockpuppet-js'`: {% sockpuppet_scripts %} loads and connects the client.
import PostController from './controllers/post_controller.js' // ported: was './controllers/post_controller' (no bundler resolves the extension)

const application = window.Sockpuppet.application // ported: was `Application.start()`
// ported: removed `const consumer = new WebsocketConsumer(`ws://${window.location.host}/ws/sockpuppet-sync`)`

application.register('post', PostController)
// ported: removed `StimulusReflex.initialize(application, { consumer })`

for (const stage of ['before', 'success', 'error', 'after']) {
  document.addEventListener(`sockpuppet:${stage}`, (event) => { // ported: was `stimulus-reflex:${stage}`
    const item = document.createElement('li')
    item.textContent = `event:${stage} ${event.target.id}`
    document.getElementById('activity').append(item)
  })
}
