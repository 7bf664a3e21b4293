// Keyboard shortcuts for every console page, declared in markup (no inline script: the CSP
// refuses it).  The contract, which console/templates/console/_shortcuts.html writes for you:
//
// - An element with data-key="a" is a shortcut.  Pressing the key (letters are matched
//   case-insensitively) activates the first such element that is not disabled:
//     * with data-key-event="next-photo" it is a page action, not a control: a bubbling
//       "console-shortcut" CustomEvent (detail: {name, key, source}) is dispatched from it and
//       the page's own script does the work;
//     * a radio button or checkbox is checked (a click, so change handlers run);
//     * a text field or select is focused;
//     * anything else (a button, a link) is clicked.
//   data-key-label names it in the panel; without one, its aria-label, its <label> or its
//   text is used.  aria-keyshortcuts on the element says the same to assistive technology.
// - Keys pressed while typing in a text field, textarea, select or contenteditable are left
//   to the field, except Escape (leaves the field, so the next key is a shortcut again) and
//   Ctrl+Enter (submits the decision form).  Keys with Ctrl, Alt or Meta are left to the
//   browser, except Ctrl+Enter.
// - The decision form is the form with data-decision-form.  Enter outside a text field (and
//   not on a button or link, where Enter already means "press this") submits it, through
//   its submit button with data-key="Enter" when it has one, and Ctrl+Enter does the same
//   from inside a text field.
// - "?" opens a dialog titled "Keyboard shortcuts" listing every data-key element of the page,
//   built from those same elements when it opens, so the list cannot drift from the
//   controls; Escape (or its Close button) closes it and focus goes back where it was.
//   A page with no data-key element has no shortcuts and "?" does nothing there.
// - A held-down key does not repeat a shortcut, and a form holding a shortcut is sent once:
//   a second submit (Enter pressed twice) would reach the server after the first had
//   already decided and moved on, and show a refusal for work that was done.
(function () {
  'use strict';

  var PANEL_ID = 'keyboard-shortcuts';
  var TEXT_INPUT_TYPES = ['text', 'search', 'email', 'number', 'password', 'tel', 'url',
                          'date', 'datetime-local', 'month', 'time', 'week'];

  function normalisedKey(key) {
    return key.length === 1 ? key.toLowerCase() : key;
  }

  function isTextField(element) {
    if (!(element instanceof Element)) {
      return false;
    }
    if (element.isContentEditable || element.tagName === 'TEXTAREA' || element.tagName === 'SELECT') {
      return true;
    }
    return element.tagName === 'INPUT' &&
      TEXT_INPUT_TYPES.indexOf((element.getAttribute('type') || 'text').toLowerCase()) !== -1;
  }

  function pressesItself(element) {
    return element instanceof Element && element.closest('button, a[href], summary') !== null;
  }

  function shortcutElements() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-key]'));
  }

  function usable(element) {
    return !element.disabled && element.closest('[inert]') === null;
  }

  function elementFor(key) {
    var wanted = normalisedKey(key);
    return shortcutElements().find(function (element) {
      return normalisedKey(element.getAttribute('data-key')) === wanted && usable(element);
    }) || null;
  }

  function activate(element) {
    var action = element.getAttribute('data-key-event');
    if (action) {
      element.dispatchEvent(new CustomEvent('console-shortcut', {
        bubbles: true,
        detail: {name: action, key: element.getAttribute('data-key'), source: element}
      }));
      return;
    }
    var type = (element.getAttribute('type') || '').toLowerCase();
    if (element.tagName === 'INPUT' && (type === 'radio' || type === 'checkbox')) {
      if (!element.checked) {
        element.click();
      }
      return;
    }
    if (isTextField(element)) {
      element.focus();
      return;
    }
    element.click();
  }

  function decisionForm() {
    return document.querySelector('form[data-decision-form]');
  }

  function submitDecision() {
    var form = decisionForm();
    if (form === null) {
      return false;
    }
    var submitter = form.querySelector('[data-key="Enter"]');
    if (submitter && submitter.disabled) {
      return false;
    }
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit(submitter || undefined);
    } else if (submitter) {
      submitter.click();
    } else {
      form.submit();
    }
    return true;
  }

  // --- the "Keyboard shortcuts" panel -----------------------------------------------------

  function labelOf(element) {
    var explicit = element.getAttribute('data-key-label') || element.getAttribute('aria-label');
    if (explicit) {
      return explicit;
    }
    if (element.id) {
      var label = document.querySelector('label[for="' + CSS.escape(element.id) + '"]');
      if (label) {
        return label.textContent.trim();
      }
    }
    return (element.textContent || '').replace(/\s+/g, ' ').trim();
  }

  function shownKey(key) {
    return key.length === 1 ? key.toUpperCase() : key;
  }

  function panelRows() {
    var seen = {};
    return shortcutElements().filter(function (element) {
      var key = normalisedKey(element.getAttribute('data-key'));
      var first = !seen[key];
      seen[key] = true;
      return first;
    }).map(function (element) {
      return {key: element.getAttribute('data-key'), label: labelOf(element)};
    });
  }

  function buildPanel() {
    var panel = document.createElement('dialog');
    panel.id = PANEL_ID;
    panel.className = 'shortcuts-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-modal', 'true');
    panel.setAttribute('aria-labelledby', PANEL_ID + '-title');
    panel.setAttribute('data-testid', 'shortcuts-panel');

    var title = document.createElement('h2');
    title.id = PANEL_ID + '-title';
    title.className = 'h5';
    title.textContent = 'Keyboard shortcuts';
    panel.appendChild(title);

    var list = document.createElement('dl');
    list.className = 'shortcuts-list';
    panel.appendChild(list);

    var note = document.createElement('p');
    note.className = 'small text-muted mb-2';
    note.textContent = 'Keys are ignored while typing in a text field; Escape leaves the ' +
      'field and Ctrl+Enter records the decision from inside it.';
    panel.appendChild(note);

    var close = document.createElement('button');
    close.type = 'button';
    close.className = 'btn btn-sm btn-secondary';
    close.textContent = 'Close';
    close.addEventListener('click', function () { closePanel(panel); });
    panel.appendChild(close);

    panel.addEventListener('cancel', function (event) {  // Escape on a modal dialog
      event.preventDefault();
      closePanel(panel);
    });
    document.body.appendChild(panel);
    return panel;
  }

  function fillPanel(panel) {
    var list = panel.querySelector('.shortcuts-list');
    list.textContent = '';
    panelRows().forEach(function (row) {
      var term = document.createElement('dt');
      var kbd = document.createElement('kbd');
      kbd.textContent = shownKey(row.key);
      kbd.setAttribute('data-shortcut-key', row.key);
      term.appendChild(kbd);
      var description = document.createElement('dd');
      description.textContent = row.label;
      list.appendChild(term);
      list.appendChild(description);
    });
    var help = document.createElement('dt');
    var helpKey = document.createElement('kbd');
    helpKey.textContent = '?';
    help.appendChild(helpKey);
    var helpText = document.createElement('dd');
    helpText.textContent = 'This list (Escape closes it)';
    list.appendChild(help);
    list.appendChild(helpText);
  }

  var returnFocusTo = null;

  function openPanel() {
    var panel = document.getElementById(PANEL_ID) || buildPanel();
    if (panel.open) {
      return;
    }
    fillPanel(panel);
    returnFocusTo = document.activeElement;
    panel.showModal();
    panel.querySelector('button').focus();
  }

  function closePanel(panel) {
    panel.close();
    if (returnFocusTo && typeof returnFocusTo.focus === 'function' && document.contains(returnFocusTo)) {
      returnFocusTo.focus();
    }
    returnFocusTo = null;
  }

  function panelIsOpen() {
    var panel = document.getElementById(PANEL_ID);
    return panel !== null && panel.open;
  }

  // --- the key handler --------------------------------------------------------------------

  function onKeyDown(event) {
    if (event.defaultPrevented || event.isComposing || shortcutElements().length === 0) {
      return;
    }
    if (event.repeat && !isTextField(event.target)) {
      event.preventDefault();
      return;
    }
    if (panelIsOpen()) {
      return;  // the dialog is modal: its own Escape and button handle it
    }
    var target = event.target;
    var ctrlEnter = event.key === 'Enter' && (event.ctrlKey || event.metaKey);
    if (ctrlEnter) {
      if (submitDecision()) {
        event.preventDefault();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (isTextField(target)) {
      if (event.key === 'Escape') {
        target.blur();
      }
      return;
    }
    if (event.key === '?') {
      event.preventDefault();
      openPanel();
      return;
    }
    if (event.key === 'Enter') {
      if (!pressesItself(target) && submitDecision()) {
        event.preventDefault();
      }
      return;
    }
    var element = elementFor(event.key);
    if (element !== null) {
      event.preventDefault();
      activate(element);
    }
  }

  function sendsOnce(form) {
    return form.hasAttribute('data-decision-form') || form.querySelector('[data-key]') !== null;
  }

  function onSubmit(event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !sendsOnce(form)) {
      return;
    }
    if (form.hasAttribute('data-sent')) {
      event.preventDefault();
      return;
    }
    form.setAttribute('data-sent', '');
  }

  function forgetSentForms(event) {
    if (event.persisted) {  // back to a page kept in memory: its forms may be sent again
      document.querySelectorAll('form[data-sent]').forEach(function (form) {
        form.removeAttribute('data-sent');
      });
    }
  }

  // A decision key chooses its decision's first reason (the reasons of each decision are an
  // <optgroup> of the #reason select, marked data-<kind>="<decision>"), unless the
  // reviewer already picked one of that decision's reasons.
  function preselectFirstReason(kind, decision) {
    var select = document.getElementById('reason');
    var group = select && select.querySelector(
      'optgroup[data-' + kind + '="' + CSS.escape(decision) + '"]');
    if (!group) {
      return;
    }
    var chosen = select.selectedOptions[0];
    if (chosen && chosen.parentElement === group) {
      return;
    }
    var first = group.querySelector('option');
    if (first) {
      select.value = first.value;
    }
  }

  document.addEventListener('keydown', onKeyDown);
  document.addEventListener('submit', onSubmit);
  window.addEventListener('pageshow', forgetSentForms);

  window.consoleShortcuts = {open: openPanel, submitDecision: submitDecision,
                            preselectFirstReason: preselectFirstReason};
}());
