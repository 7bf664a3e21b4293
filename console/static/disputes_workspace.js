// The dispute workspace's own behaviour; its keys are declared in the template and bound by
// shortcuts.js.  Choosing an outcome (1-6, or a click) fills the sensible defaults, so that
// Enter can record it at once:
// - the outcome's first reason, unless the chosen reason is already one of its own;
// - a split: half of the held amount as the refund, when no amount is typed yet (taken
//   away again when another outcome is chosen, which would refuse an amount);
// - a request for information: the buyer asked, and the note focused (the question is
//   required), so Ctrl+Enter records it from there.
(function () {
  'use strict';

  function halfOfHeldAsRupees(field) {
    var paise = Math.floor(parseInt(field.getAttribute('data-held-paise'), 10) / 2);
    if (!(paise > 0)) {
      return '';
    }
    var rupees = Math.floor(paise / 100);
    var rest = paise % 100;
    return rupees + '.' + (rest < 10 ? '0' : '') + rest;
  }

  var filledRefund = null;

  function fillRefund(outcome, refund) {
    if (outcome === 'split' && !refund.value.trim()) {
      refund.value = halfOfHeldAsRupees(refund);
      filledRefund = refund.value;
    } else if (outcome !== 'split' && filledRefund !== null && refund.value === filledRefund) {
      refund.value = '';
      filledRefund = null;
    }
  }

  function fillDefaults(outcome) {
    window.consoleShortcuts.preselectFirstReason('outcome', outcome);
    var refund = document.getElementById('refund_rupees');
    if (refund) {
      fillRefund(outcome, refund);
    }
    var askWhom = document.getElementById('info_from');
    if (outcome === 'request_info' && askWhom) {
      if (!askWhom.value) {
        askWhom.value = 'buyer';
      }
      var note = document.getElementById('note');
      if (note) {
        note.focus();
      }
    }
  }

  document.addEventListener('change', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (target && target.matches('input[data-outcome-choice]') && target.checked) {
      fillDefaults(target.value);
    }
  });
}());
