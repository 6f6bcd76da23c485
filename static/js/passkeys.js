// Passkeys (WebAuthn): the browser's side of registering one (accounts/two_factor.html), of
// signing in with one (registration/second_factor.html) and of confirming a sensitive action
// with one (step-up: accounts/includes/step_up_proof.html, in a dialog HTMX opened or on the
// system admin site). The server makes the options and checks the answers (py_webauthn);
// this only carries them between it and the authenticator.
(function () {
  "use strict";

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { /* the admin site */ }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? "{}" : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "Something went wrong. Try again.");
        return data;
      });
    });
  }

  function showError(message, box) {
    box = box || document.getElementById("passkey-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    box.setAttribute("tabindex", "-1");
    box.focus();
  }

  function failure(error, box) {
    if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
      showError("The passkey request was cancelled or timed out. Try again.", box);
    } else {
      showError(error && error.message ? error.message : "The passkey did not work. Try again.", box);
    }
  }

  function supported() {
    return window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON;
  }

  var form = document.getElementById("passkey-register");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!supported()) return showError("This browser does not support passkeys.");
      var name = form.querySelector("[name=name]").value;
      post(form.getAttribute("data-options-url")).then(function (options) {
        return navigator.credentials.create({
          publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)
        });
      }).then(function (credential) {
        return post(form.getAttribute("data-register-url"), { name: name, credential: credential.toJSON() });
      }).then(function (data) {
        window.location.assign(data.redirect);
      }).catch(failure);
    });
  }

  var signIn = document.querySelector("[data-passkey-sign-in]");
  if (signIn) {
    signIn.addEventListener("click", function () {
      if (!supported()) return showError("This browser does not support passkeys.");
      post(signIn.getAttribute("data-options-url")).then(function (options) {
        return navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)
        });
      }).then(function (credential) {
        return post(signIn.getAttribute("data-verify-url"), credential.toJSON());
      }).then(function (data) {
        window.location.assign(data.redirect);
      }).catch(failure);
    });
  }

  // Step-up: the dialog arrives later (HTMX), so the click is caught on the document. The
  // signed answer goes into the form's hidden field and the form is submitted with it, so the
  // same POST that asked for the proof carries the action on (HTMX's hx-post, or a plain post).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-passkey-step-up]") : null;
    if (!button) return;
    var form = button.closest("form");
    var box = form.querySelector("[data-passkey-error]");
    if (!supported()) return showError("This browser does not support passkeys.", box);
    button.disabled = true;
    post(button.getAttribute("data-options-url")).then(function (options) {
      return navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)
      });
    }).then(function (credential) {
      form.querySelector("input[name=stepup_passkey]").value = JSON.stringify(credential.toJSON());
      button.disabled = false;
      form.requestSubmit();
    }).catch(function (error) {
      button.disabled = false;
      failure(error, box);
    });
  });
})();
