// Keyward's only hand-written script: what no hx- attribute can do without eval.
// The modal, dismissible toasts and copy buttons.
(function () {
  "use strict";

  // The modal: every dialog (templates/dialog.html) is swapped into #modal by an hx-get, and
  // its form answers into #modal too. A new <dialog> there is opened as a modal; the server
  // closes it with the HX-Trigger event `closeModal` after a successful write.
  var lastFocus = null;

  function modalDialog() {
    return document.querySelector("#modal dialog");
  }

  function firstFocus(dialog) {
    // A field the server refused, else the dialog's chosen start (Cancel, for a destructive
    // confirmation), else its first field or button.
    return dialog.querySelector("[aria-invalid=true]") || dialog.querySelector("[autofocus]") ||
      dialog.querySelector("form input:not([type=hidden]):not([type=radio]), form input[type=radio]:checked, form select, form textarea, form button, .modal-actions > *");
  }

  function openModal() {
    var dialog = modalDialog();
    if (!dialog || dialog.open || dialog.hasAttribute("data-opened")) return;
    dialog.setAttribute("data-opened", "");
    // A dialog that replaces another (its errors, the one-time secret) keeps the original opener.
    if (!lastFocus || !document.body.contains(lastFocus)) lastFocus = document.activeElement;
    dialog.addEventListener("close", function () {
      if (modalDialog() === dialog) document.getElementById("modal").replaceChildren();
      if (lastFocus && document.body.contains(lastFocus)) lastFocus.focus();
      lastFocus = null;
    }, { once: true });
    dialog.showModal();
    var first = firstFocus(dialog);
    if (first) first.focus();
  }

  function closeModal() {
    var dialog = modalDialog();
    if (dialog && dialog.open) dialog.close();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "modal") openModal();
  });
  document.body.addEventListener("closeModal", closeModal);

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-close-modal]");
    if (target && modalDialog()) {
      event.preventDefault();
      closeModal();
      return;
    }
    var selectAll = event.target.closest("[data-select-all]");
    if (selectAll) {
      var form = selectAll.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][form="' + form + '"]:not(:disabled)').forEach(
        function (box) { box.checked = selectAll.checked; });
      return;
    }
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) {
      removeToast(dismiss.closest(".toast"));
      return;
    }
    var copy = event.target.closest("[data-copy-target]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy-target"));
      if (!source) return;
      var text = source.value !== undefined ? source.value : source.textContent;
      navigator.clipboard.writeText(text.trim()).then(function () {
        var label = copy.getAttribute("data-copied-label") || "Copied";
        copy.setAttribute("data-label", copy.textContent);
        copy.textContent = label;
      });
    }
  });

  // A checkbox that must be ticked before its button works ("I've made a copy...").
  document.addEventListener("change", function (event) {
    var box = event.target.closest("[data-enables]");
    if (!box) return;
    var button = document.getElementById(box.getAttribute("data-enables"));
    if (button) button.disabled = !box.checked;
  });

  // Toasts: at most the newest three show; success ones go after a few seconds (not while the
  // pointer or the focus is on them), errors and warnings stay until dismissed. #toasts is the
  // aria-live region; removing a toast announces nothing.
  var TOAST_LIMIT = 3;
  var TOAST_SECONDS = 6;

  function removeToast(toast) {
    var hadFocus = toast.contains(document.activeElement);
    var next = toast.nextElementSibling || toast.previousElementSibling;
    toast.remove();
    if (!hadFocus) return;
    var close = next && next.querySelector(".toast-close");
    if (close) close.focus(); else document.getElementById("main").focus();
  }

  function scheduleToasts(root) {
    var region = document.getElementById("toasts");
    if (region) {
      var shown = region.querySelectorAll(".toast");
      for (var i = 0; i < shown.length - TOAST_LIMIT; i++) removeToast(shown[i]);
    }
    root.querySelectorAll(".toast-success:not([data-timed])").forEach(function (toast) {
      toast.setAttribute("data-timed", "");
      var expire = function () {
        if (!toast.isConnected) return;
        if (toast.matches(":hover, :focus-within")) setTimeout(expire, 1000);
        else removeToast(toast);
      };
      setTimeout(expire, TOAST_SECONDS * 1000);
    });
  }

  // "Revoke selected" names how many keys are ticked ("Revoke 3 selected"), is disabled (its
  // description says why) while none is, and hides while no key in the table can be revoked.
  // Without JavaScript the button simply posts what is ticked.
  function updateBulkRevoke() {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    var boxes = document.querySelectorAll('input[type=checkbox][form="bulk-form"]:not(:disabled)');
    var ticked = 0;
    boxes.forEach(function (box) { if (box.checked) ticked += 1; });
    form.hidden = boxes.length === 0;
    var button = form.querySelector("[data-bulk-button]");
    var count = form.querySelector("[data-bulk-count]");
    var hint = form.querySelector("[data-bulk-hint]");
    if (count) count.textContent = ticked + " ";
    if (button) button.disabled = ticked === 0;
    if (hint) {
      hint.textContent = ticked === 0
        ? "Disabled: tick the check boxes of the keys to revoke in the table first."
        : "Asks for confirmation before revoking " + ticked + (ticked === 1 ? " key." : " keys.");
    }
    document.querySelectorAll('[data-select-all="bulk-form"]').forEach(function (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches('[data-select-all="bulk-form"], input[form="bulk-form"]')) {
      updateBulkRevoke();
    }
  });
  document.addEventListener("htmx:afterSettle", updateBulkRevoke);
  document.addEventListener("htmx:historyRestore", updateBulkRevoke);

  // htmx keeps a snapshot of the page for Back, taken as markup just before the next URL is
  // pushed. So once a URL is pushed, the search forms' values (which made that URL) go into
  // their attributes: the snapshot then shows the filters of its own URL.
  function recordFilters() {
    document.querySelectorAll("form[role=search]").forEach(function (form) {
      form.querySelectorAll("input:not([type=checkbox]):not([type=radio])").forEach(function (input) {
        input.setAttribute("value", input.value);
      });
      form.querySelectorAll("select").forEach(function (select) {
        Array.prototype.forEach.call(select.options, function (option) {
          option.toggleAttribute("selected", option.selected);
        });
      });
    });
  }
  document.addEventListener("htmx:pushedIntoHistory", recordFilters);

  document.addEventListener("DOMContentLoaded", function () {
    scheduleToasts(document);
    updateBulkRevoke();
    // Without JavaScript the checkbox's `required` guards the button; with it, the button
    // stays disabled until the box is ticked.
    document.querySelectorAll("[data-enables]").forEach(function (box) {
      var button = document.getElementById(box.getAttribute("data-enables"));
      if (button) button.disabled = !box.checked;
    });
  });
  // However a toast arrives (out of band after a write, or with a page), the cap and the timer
  // apply to it.
  document.addEventListener("DOMContentLoaded", function () {
    var region = document.getElementById("toasts");
    if (region) {
      new MutationObserver(function () { scheduleToasts(region); }).observe(region, { childList: true });
    }
  });
})();
