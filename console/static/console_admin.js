// Flask-Admin's own templates carry inline handlers (onclick="...") and javascript: links,
// which the console's Content Security Policy refuses. The console's copies of those
// templates mark the elements with data attributes instead; this binds their behaviour.
(function () {
  'use strict';

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (target === null) {
      return;
    }
    var confirming = target.closest('[data-confirm]');
    if (confirming && !window.confirm(confirming.getAttribute('data-confirm'))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    var action = target.closest('[data-model-action]');
    if (action && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(action.getAttribute('data-model-action'));
      return;
    }
    var inline = target.closest('[data-add-inline]');
    if (inline && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(inline, inline.getAttribute('data-add-inline'));
      return;
    }
    if (target.closest('a[data-no-navigation]')) {
      event.preventDefault();  // a menu toggle or a filter choice, not a link
    }
  });
}());
