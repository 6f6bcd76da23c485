// Keyward's only hand-written script: what no hx- attribute can do without eval.
// The modal, dismissible toasts and copy buttons.
(function () {
  "use strict";

  // The modal: every dialog (templates/dialog.html) is swapped into #modal by an hx-get, and
  // its form answers into #modal too. A new <dialog> there is opened as a modal; the server
  // closes it with the HX-Trigger event `closeModal` after a successful write.
  var lastFocus = null;

  // The CSP allows no inline style, so htmx must not carry `style` attributes over a swap
  // (a dialog that comes back with its errors re-uses the ids of the one it replaces; an
  // element the browser gave a style attribute would otherwise log a CSP violation).
  if (window.htmx) {
    htmx.config.attributesToSettle = htmx.config.attributesToSettle.filter(function (name) {
      return name !== "style";
    });
  }

  function modalDialog() {
    return document.querySelector("#modal dialog");
  }

  function firstFocus(dialog) {
    // After a refused submit, the first error: the form's error summary (a refusal that is no
    // one field's, such as the per-user maximum), else the first refused field. Otherwise the
    // dialog's chosen start (Cancel, for a destructive confirmation), else its first field.
    return dialog.querySelector("[data-error-summary]") || dialog.querySelector("[aria-invalid=true]") ||
      dialog.querySelector("[autofocus]") ||
      dialog.querySelector("form input:not([type=hidden]):not([type=radio]), form input[type=radio]:checked, form select, form textarea, form button, .modal-actions > *");
  }

  // A dialog that shows a secret once closes only after "I've made a copy…" is ticked: not by
  // Escape (closedby="none", and the cancel event as a fallback), not by the ×.
  function acknowledgement(dialog) {
    return dialog ? dialog.querySelector("[data-acknowledges]") : null;
  }

  function acknowledged(dialog) {
    var box = acknowledgement(dialog);
    return !box || box.checked;
  }

  function remindToAcknowledge(dialog) {
    var box = acknowledgement(dialog);
    if (box) box.focus();
  }

  function guardAcknowledgement(dialog) {
    if (!acknowledgement(dialog)) return;
    dialog.setAttribute("closedby", "none");
    dialog.addEventListener("cancel", function (event) {
      if (acknowledged(dialog)) return;
      event.preventDefault();
      remindToAcknowledge(dialog);
    });
  }

  function acknowledgementChanged(box) {
    var dialog = box.closest("dialog");
    if (dialog && dialog.hasAttribute("closedby")) {
      dialog.setAttribute("closedby", box.checked ? "closerequest" : "none");
    }
  }

  function enableByCheckbox(root) {
    // Without JavaScript the checkbox's `required` guards the button; with it, the button
    // stays disabled until the box is ticked.
    root.querySelectorAll("[data-enables]").forEach(function (box) {
      var button = document.getElementById(box.getAttribute("data-enables"));
      if (button) button.disabled = !box.checked;
    });
  }

  function showFirstError(first) {
    // Announced by its role=alert (the summary) or by its label and described-by error (a
    // field); scrolled into the middle of the dialog, so it is never left out of view.
    if (first.matches("[data-error-summary], [aria-invalid=true]")) {
      first.scrollIntoView({ block: "center" });
    }
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
    enableByCheckbox(dialog);
    guardAcknowledgement(dialog);
    dialog.showModal();
    var first = firstFocus(dialog);
    if (first) {
      first.focus();
      showFirstError(first);
    }
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
      if (!acknowledged(modalDialog())) {
        remindToAcknowledge(modalDialog());
        return;
      }
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
    if (box.hasAttribute("data-acknowledges")) acknowledgementChanged(box);
  });

  // A row's ⋯ menu opens upward when there is no room for it below (the last rows of a
  // table near the bottom of the window), and rightward when its usual leftward opening
  // would leave the window (a menu at the left of a phone's screen): no item is out of view.
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.classList.contains("row-menu")) return;
    menu.classList.remove("menu-up", "menu-start");
    if (!menu.open) return;
    var list = menu.querySelector(".menu-list");
    var rect = list.getBoundingClientRect();
    if (rect.bottom > window.innerHeight && menu.getBoundingClientRect().top > rect.height + 8) {
      menu.classList.add("menu-up");
    }
    if (rect.left < 0) menu.classList.add("menu-start");
  }, true);

  // Escape hides a tip shown by focus (until focus leaves it), and closes an open row menu,
  // returning the focus to its ⋯ button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !(event.target instanceof Element)) return;
    var tip = event.target.closest(".tip");
    if (tip) {
      tip.classList.add("tip-dismissed");
      return;
    }
    var menu = event.target.closest("details.row-menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  document.addEventListener("focusout", function (event) {
    var tip = event.target instanceof Element && event.target.closest(".tip");
    if (tip) tip.classList.remove("tip-dismissed");
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
  // A search box applies itself while typing (its form's hx-trigger "input changed delay");
  // the `change` it fires again on losing focus would fetch the same table once more and
  // close the row menu that was just clicked open. Every other field applies on `change`.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("form[role=search] input[type=search]")) {
      event.stopPropagation();
    }
  }, true);
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
    enableByCheckbox(document);
    updateBulkRevoke();
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
