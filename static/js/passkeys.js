// Passkeys (WebAuthn): the browser's side of registering one (accounts/two_factor.html) and of
// signing in with one (registration/second_factor.html). The server makes the options and
// checks the answers (py_webauthn); this only carries them between it and the authenticator.
(function () {
  "use strict";

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
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

  function showError(message) {
    var box = document.getElementById("passkey-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    box.setAttribute("tabindex", "-1");
    box.focus();
  }

  function failure(error) {
    if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
      showError("The passkey request was cancelled or timed out. Try again.");
    } else {
      showError(error && error.message ? error.message : "The passkey did not work. Try again.");
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
})();
