// The authentication workspace's own behaviour; its keys are declared in the template and
// bound by shortcuts.js, which sends the non-control ones here as "console-shortcut" events.
// - l goes to the checklist (the browser's arrow keys and Tab then work its radio buttons);
// - "Unset points pass" sets every checklist point that has no result yet to pass;
// - choosing a verdict preselects its first reason unless the chosen reason is one of its own;
// - a current photo (j / k), zoomed with z, or shown beside the references with r.
(function () {
  'use strict';

  // --- the decision form ----------------------------------------------------------------

  function checklistPoints(table) {
    var names = [];
    table.querySelectorAll('input[type=radio][name^="check_"]').forEach(function (radio) {
      if (names.indexOf(radio.name) === -1) {
        names.push(radio.name);
      }
    });
    return names;
  }

  function passUnsetPoints() {
    var table = document.querySelector('[data-checklist]');
    if (table === null) {
      return;
    }
    checklistPoints(table).forEach(function (name) {
      var radios = table.querySelectorAll('input[type=radio][name="' + CSS.escape(name) + '"]');
      var set = Array.prototype.some.call(radios, function (radio) { return radio.checked; });
      if (!set) {
        var pass = Array.prototype.find.call(radios, function (radio) { return radio.value === 'pass'; });
        if (pass) {
          pass.checked = true;
        }
      }
    });
  }

  function focusChecklist() {
    var table = document.querySelector('[data-checklist]');
    var first = table && (table.querySelector('input[type=radio][name^="check_"]:checked') ||
                          table.querySelector('input[type=radio][name^="check_"]'));
    if (first) {
      first.focus();
    }
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (target && target.closest('[data-all-pass]')) {
      passUnsetPoints();
    }
  });

  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.name === 'verdict' && target.checked) {
      window.consoleShortcuts.preselectFirstReason('verdict', target.value);
    }
  });

  // --- photos ---------------------------------------------------------------------------

  function photos() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-photo]'));
  }

  function currentIndex(all) {
    var index = all.findIndex(function (figure) { return figure.classList.contains('is-current'); });
    return index === -1 ? 0 : index;
  }

  function makeCurrent(all, index) {
    all.forEach(function (figure, i) {
      figure.classList.toggle('is-current', i === index);
      if (i === index) {
        figure.setAttribute('aria-current', 'true');
      } else {
        figure.removeAttribute('aria-current');
      }
    });
    all[index].scrollIntoView({block: 'nearest'});
    var compare = comparison();
    if (compare && !compare.hidden) {
      showInComparison(all[index]);
    }
    if (zoomedPhoto() !== null) {
      window.location.hash = 'zoom-' + all[index].getAttribute('data-photo');
    }
  }

  function step(by) {
    var all = photos();
    if (all.length === 0) {
      return;
    }
    makeCurrent(all, (currentIndex(all) + by + all.length) % all.length);
  }

  function zoomedPhoto() {
    var match = /^#zoom-(\d+)$/.exec(window.location.hash);
    return match ? match[1] : null;
  }

  function closeZoom() {
    window.location.hash = 'photos-closed';
  }

  function toggleZoom() {
    var all = photos();
    if (all.length === 0) {
      return;
    }
    if (zoomedPhoto() !== null) {
      closeZoom();
      return;
    }
    window.location.hash = 'zoom-' + all[currentIndex(all)].getAttribute('data-photo');
  }

  function comparison() {
    return document.getElementById('auth-compare');
  }

  function showInComparison(figure) {
    var image = comparison().querySelector('[data-compare-current]');
    image.src = figure.getAttribute('data-photo-src');
    image.alt = figure.querySelector('img').alt;
  }

  function toggleComparison() {
    var compare = comparison();
    var all = photos();
    if (compare === null || all.length === 0) {
      return;
    }
    if (compare.hidden) {
      showInComparison(all[currentIndex(all)]);
    }
    compare.hidden = !compare.hidden;
  }

  var ACTIONS = {
    'next-photo': function () { step(1); },
    'previous-photo': function () { step(-1); },
    'zoom-photo': toggleZoom,
    'compare-references': toggleComparison,
    'focus-checklist': focusChecklist
  };

  document.addEventListener('console-shortcut', function (event) {
    var action = ACTIONS[event.detail.name];
    if (action) {
      action();
    }
  });

  // Escape closes the zoom or the comparison (shortcuts.js leaves Escape outside text
  // fields to the page).
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') {
      return;
    }
    if (zoomedPhoto() !== null) {
      closeZoom();
    }
    var compare = comparison();
    if (compare && !compare.hidden) {
      compare.hidden = true;
    }
  });
}());
