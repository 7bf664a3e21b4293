// The duplicates review's own behaviour; its keys are declared in the template and bound by
// shortcuts.js, which sends them here as "console-shortcut" events:
// - j / k make the next / previous group current (outlined, scrolled to);
// - c / d press the current group's "Confirm the group" / "Dismiss the group".
// The current group's buttons carry aria-keyshortcuts, so assistive technology says which
// key presses them.
(function () {
  'use strict';

  var CURRENT = 'vision-group-current';
  var KEYS = {'confirm-group': 'C', 'dismiss-group': 'D'};

  function groups() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-group]'));
  }

  function currentIndex(all) {
    var index = all.findIndex(function (group) { return group.classList.contains(CURRENT); });
    return index === -1 ? 0 : index;
  }

  function makeCurrent(all, index) {
    all.forEach(function (group, i) {
      group.classList.toggle(CURRENT, i === index);
      group.querySelectorAll('[data-group-action]').forEach(function (button) {
        var key = KEYS[button.getAttribute('data-group-action')];
        if (i === index) {
          button.setAttribute('aria-keyshortcuts', key);
        } else {
          button.removeAttribute('aria-keyshortcuts');
        }
      });
    });
    all[index].scrollIntoView({block: 'nearest'});
    all[index].focus({preventScroll: true});
  }

  function move(step) {
    var all = groups();
    if (all.length === 0) {
      return;
    }
    var index = Math.min(all.length - 1, Math.max(0, currentIndex(all) + step));
    makeCurrent(all, index);
  }

  function pressOnCurrent(action) {
    var all = groups();
    if (all.length === 0) {
      return;
    }
    var button = all[currentIndex(all)].querySelector('[data-group-action="' + action + '"]');
    if (button && !button.disabled) {
      button.click();
    }
  }

  document.addEventListener('console-shortcut', function (event) {
    var name = event.detail && event.detail.name;
    if (name === 'next-group') {
      move(1);
    } else if (name === 'previous-group') {
      move(-1);
    } else if (name === 'confirm-group' || name === 'dismiss-group') {
      pressOnCurrent(name);
    }
  });

  function start() {
    var all = groups();
    if (all.length > 0) {
      makeCurrent(all, 0);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
